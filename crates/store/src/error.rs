use thiserror::Error;
pub use wangge_domain::Message;

/// What can go wrong in the store. What a person should read is a [`Message`] (a
/// catalogue key and its arguments), put into their language by the web layer or
/// the command line; the store writes no prose.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{what} {key} was not found")]
    NotFound { what: Thing, key: String },
    /// A uniqueness or state rule would be broken (duplicate ID card, a building
    /// number taken, moving out someone who already left…).
    #[error("{0}")]
    Conflict(Message),
    /// The request itself is wrong in a way only the store can see (a grid given
    /// where a community was needed, a code that does not nest under its parent…).
    #[error("{0}")]
    Invalid(Message),
    /// The caller's role may not do this to this record (a rule only the record's
    /// state can decide, such as who may take a step of a demand).
    #[error("{0}")]
    Forbidden(Message),
    /// Larger than the store accepts (an attachment over its limit).
    #[error("{0}")]
    TooLarge(Message),
    /// The disk holding the database is full (SQLite's `SQLITE_FULL`, PostgreSQL's
    /// SQLSTATE 53100): nothing was written; the same request succeeds once space is
    /// freed. Reads go on working.
    #[error("the disk of the database is full: {0}")]
    DiskFull(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The encryption key of the protected fields is missing, unreadable or not the
    /// one the data was sealed with: an operator's problem, never the user's.
    #[error("encryption key: {0}")]
    Key(#[from] crate::vault::VaultError),
}

impl StoreError {
    /// The message for a person, if this error has one (not found and the operator's
    /// errors have none).
    pub fn message(&self) -> Option<&Message> {
        match self {
            Self::Conflict(m) | Self::Invalid(m) | Self::Forbidden(m) | Self::TooLarge(m) => Some(m),
            _ => None,
        }
    }

    pub fn not_found(what: Thing, key: impl ToString) -> Self {
        Self::NotFound { what, key: key.to_string() }
    }

    /// Whether this is [`StoreError::DiskFull`].
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Self::DiskFull(_))
    }

    /// Turns a unique-constraint violation into a [`StoreError::Conflict`] with the
    /// message given; other errors pass through.
    pub fn on_unique(err: sqlx::Error, message: impl FnOnce() -> Message) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(message()),
            _ => Self::from(err),
        }
    }
}

/// A kind of record a request may name and the store may not find. Each one has its
/// name in the catalogue (`what.*`, [`Thing::key`]) for the person who asked, and an
/// English one for the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thing {
    Account,
    ApiToken,
    Area,
    Attachment,
    Building,
    Campaign,
    /// A household or person a campaign asks.
    CampaignTarget,
    /// An answer held back from the registry because the fact changed meanwhile.
    CampaignConflict,
    /// A campaign saved to be started again on a schedule.
    CampaignTemplate,
    /// A photo taken at the door for a campaign's photo question.
    CampaignPhoto,
    Category,
    Demand,
    /// The person or unit an item is dispatched to.
    Handler,
    Household,
    Import,
    /// An instruction sent down (指令).
    Instruction,
    /// A receiver's receipt of an instruction, with its report.
    InstructionReceipt,
    /// A file of an instruction or of a report on it.
    InstructionFile,
    Organisation,
    Resident,
    SignUp,
    TeamPost,
    UnitMember,
    /// A home visit.
    Visit,
    /// A photo of a home visit.
    VisitPhoto,
    /// A community's visiting cadence.
    Cadence,
    /// A correction of the registry proposed after a visit.
    Correction,
    Webhook,
    /// A Party organisation (党委, 党总支, 党支部, 党小组).
    PartyOrg,
    /// A Party member on a community's roll.
    PartyMember,
    /// A unit registered with a community (双报到).
    PartyUnit,
    /// A registration of a member or a unit for one period.
    PartyRegistration,
    /// A need of a community's needs list.
    PartyNeed,
    /// A member's service record.
    PartyService,
    /// A photo of a service record.
    PartyPhoto,
    /// Access to a community's Party roll granted to a named account.
    PartyGrant,
    /// A meeting of a Party organisation (三会一课).
    PartyMeeting,
    /// A joint meeting (联席会议) of the community's Party organisation and units.
    PartyJointMeeting,
    /// A resolution of a joint meeting.
    PartyResolution,
    /// A resource of the three lists.
    PartyResource,
    /// A project of the three lists.
    PartyProject,
    /// A community activity.
    Activity,
    /// A sign-up for an activity.
    ActivitySignup,
    /// A photo of an activity.
    ActivityPhoto,
    /// A notice (通知公告).
    Notice,
    /// A notice's attachment.
    NoticeFile,
    /// A survey (问卷).
    Survey,
    /// A call for micro venture projects (微创投).
    VentureCall,
    /// An application to a call.
    VentureApplication,
    /// A photo of a micro venture project.
    VenturePhoto,
    Tag,
}

impl Thing {
    pub const ALL: [Thing; 51] = [
        Self::Account,
        Self::ApiToken,
        Self::Area,
        Self::Attachment,
        Self::Building,
        Self::Campaign,
        Self::CampaignTarget,
        Self::CampaignConflict,
        Self::CampaignTemplate,
        Self::CampaignPhoto,
        Self::Category,
        Self::Demand,
        Self::Handler,
        Self::Household,
        Self::Import,
        Self::Instruction,
        Self::InstructionReceipt,
        Self::InstructionFile,
        Self::Organisation,
        Self::Resident,
        Self::SignUp,
        Self::TeamPost,
        Self::UnitMember,
        Self::Visit,
        Self::VisitPhoto,
        Self::Cadence,
        Self::Correction,
        Self::Webhook,
        Self::PartyOrg,
        Self::PartyMember,
        Self::PartyUnit,
        Self::PartyRegistration,
        Self::PartyNeed,
        Self::PartyService,
        Self::PartyPhoto,
        Self::PartyGrant,
        Self::PartyMeeting,
        Self::PartyJointMeeting,
        Self::PartyResolution,
        Self::PartyResource,
        Self::PartyProject,
        Self::Activity,
        Self::ActivitySignup,
        Self::ActivityPhoto,
        Self::Notice,
        Self::NoticeFile,
        Self::Survey,
        Self::VentureCall,
        Self::VentureApplication,
        Self::VenturePhoto,
        Self::Tag,
    ];

    /// The catalogue key of its name.
    pub fn key(self) -> &'static str {
        match self {
            Self::Account => "what.account",
            Self::ApiToken => "what.api_token",
            Self::Area => "what.area",
            Self::Attachment => "what.attachment",
            Self::Building => "what.building",
            Self::Campaign => "what.campaign",
            Self::CampaignTarget => "what.campaign_target",
            Self::CampaignConflict => "what.campaign_conflict",
            Self::CampaignTemplate => "what.campaign_template",
            Self::CampaignPhoto => "what.campaign_photo",
            Self::Category => "what.category",
            Self::Demand => "what.demand",
            Self::Handler => "what.handler",
            Self::Household => "what.household",
            Self::Import => "what.import",
            Self::Instruction => "what.instruction",
            Self::InstructionReceipt => "what.instruction_receipt",
            Self::InstructionFile => "what.instruction_file",
            Self::Organisation => "what.organisation",
            Self::Resident => "what.resident",
            Self::SignUp => "what.signup",
            Self::TeamPost => "what.team_post",
            Self::UnitMember => "what.unit_member",
            Self::Visit => "what.visit",
            Self::VisitPhoto => "what.visit_photo",
            Self::Cadence => "what.cadence",
            Self::Correction => "what.correction",
            Self::Webhook => "what.webhook",
            Self::PartyOrg => "what.party_org",
            Self::PartyMember => "what.party_member",
            Self::PartyUnit => "what.party_unit",
            Self::PartyRegistration => "what.party_registration",
            Self::PartyNeed => "what.party_need",
            Self::PartyService => "what.party_service",
            Self::PartyPhoto => "what.party_photo",
            Self::PartyGrant => "what.party_grant",
            Self::PartyMeeting => "what.party_meeting",
            Self::PartyJointMeeting => "what.party_joint_meeting",
            Self::PartyResolution => "what.party_resolution",
            Self::PartyResource => "what.party_resource",
            Self::PartyProject => "what.party_project",
            Self::Activity => "what.activity",
            Self::ActivitySignup => "what.activity_signup",
            Self::ActivityPhoto => "what.activity_photo",
            Self::Notice => "what.notice",
            Self::NoticeFile => "what.notice_file",
            Self::Survey => "what.survey",
            Self::VentureCall => "what.venture_call",
            Self::VentureApplication => "what.venture_application",
            Self::VenturePhoto => "what.venture_photo",
            Self::Tag => "what.tag",
        }
    }
}

impl std::fmt::Display for Thing {
    /// The English name, for logs (`demand 0190… was not found`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key().trim_start_matches("what.").replace('_', " ").as_str())
    }
}

/// A message for the operator (a server's misconfiguration, a failed thread), not a
/// user's mistake: its detail stays in English, under one translated sentence.
pub fn operator(detail: impl std::fmt::Display) -> Message {
    wangge_domain::msg!("error.operator", detail = detail)
}

impl From<sqlx::Error> for StoreError {
    /// Database errors, with a full disk told apart so that callers can answer
    /// "try again later" instead of "internal error".
    fn from(err: sqlx::Error) -> Self {
        if is_disk_full(&err) {
            return Self::DiskFull(err.to_string());
        }
        Self::Database(err)
    }
}

/// SQLite's `SQLITE_FULL` (13, also as the low byte of an extended code) or
/// PostgreSQL's `disk_full` (SQLSTATE 53100), or an I/O error saying the device has
/// no space left.
pub fn is_disk_full(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            if code == "53100" {
                return true;
            }
            // SQLite's codes are numbers below 10,000; SQLSTATEs have five characters.
            if code.len() < 5
                && let Ok(n) = code.parse::<i32>()
                && n & 0xff == 13
            {
                return true;
            }
            let message = db.message();
            message.contains("database or disk is full") || message.contains("No space left on device")
        }
        sqlx::Error::Io(e) => e.raw_os_error() == Some(28), // ENOSPC
        _ => false,
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
