//! What the audit log records: every kind of audited event, as a closed vocabulary.
//! The log stores the code (`resident.update`); the audit page shows the label in
//! the reader's language and filters by it. A handler names its event with a variant,
//! so an event cannot be misspelt into a kind nobody searches for.
//!
//! Codes keep their dots (`demand.accept`): they are what the log has always held,
//! and what exports and searches name. Serde's names of this type are not used.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::demands::Step;
use crate::vocab::{Vocabulary, vocabulary};

vocabulary!(
    /// A kind of audited event.
    AuditAction, "audited event" {
    Login = "login", "登录", "Log in", [];
    LoginFailed = "login_failed", "登录失败", "Failed login", [];
    LoginThrottled = "login_throttled", "登录受限", "Login throttled", [];
    Logout = "logout", "退出", "Log out", [];
    PasswordChange = "password_change", "修改密码", "Change password", [];
    AccountCreate = "account.create", "新建账号", "Create an account", [];
    AccountDisable = "account.disable", "停用账号", "Disable an account", [];
    AccountEnable = "account.enable", "启用账号", "Enable an account", [];
    AccountResetPassword = "account.reset_password", "重置密码", "Reset a password", [];
    AccountBindHousehold = "account.bind_household", "绑定住户", "Bind an account to a household", [];
    TokenIssue = "token.issue", "签发令牌", "Issue an API token", [];
    TokenRevoke = "token.revoke", "撤销令牌", "Revoke an API token", [];
    AccessGrant = "access.grant", "临时授权（破窗）", "Break-the-glass grant", [];
    AuditExport = "audit.export", "导出审计日志", "Export the audit log", [];
    SignupRequest = "signup.request", "住户注册申请", "Sign-up requested", [];
    SignupUnmatched = "signup.unmatched", "注册未匹配", "Sign-up matched no household", [];
    SignupConfirm = "signup.confirm", "确认注册", "Confirm a sign-up", [];
    SignupReject = "signup.reject", "驳回注册", "Reject a sign-up", [];
    RecoveryCodeIssue = "recovery.issue", "发放找回密码验证码", "Issue a password recovery code", [];
    RecoveryCodeUse = "recovery.use", "用验证码重设密码", "Set a password with a recovery code", [];
    RecoveryCodeRefused = "recovery.refused", "验证码不正确", "Recovery code refused", [];
    AreaCreate = "area.create", "新建区划", "Create an area", [];
    AreaUpdate = "area.update", "修改区划", "Change an area", [];
    BuildingCreate = "building.create", "新建楼栋", "Create a building", [];
    BuildingUpdate = "building.update", "修改楼栋", "Change a building", [];
    HouseholdCreate = "household.create", "新建住户", "Create a household", [];
    HouseholdUpdate = "household.update", "修改住户", "Change a household", [];
    ResidentCreate = "resident.create", "新增人员", "Add a resident", [];
    ResidentUpdate = "resident.update", "修改人员信息", "Change a resident", [];
    ResidentMoveOut = "resident.move_out", "迁出", "Move out", [];
    ResidentMoveIn = "resident.move_in", "迁入", "Move in", [];
    ResidentMoveHouse = "resident.move_house", "搬家", "Move house", [];
    OrganisationCreate = "organisation.create", "新建单位", "Create an organisation", [];
    OrganisationUpdate = "organisation.update", "修改单位", "Change an organisation", [];
    TeamAdd = "team.add", "新增网格队伍成员", "Add to a grid team", [];
    TeamUpdate = "team.update", "修改网格队伍成员", "Change a grid team post", [];
    TeamEnd = "team.end", "结束网格职务", "End a grid team post", [];
    VisitRecord = "visit.record", "登记走访", "Record a visit", [];
    VisitEdit = "visit.edit", "修改走访", "Edit a visit", [];
    VisitSettings = "visit.settings", "修改走访频次设置", "Change visiting cadences, spells or the edit window", [];
    CorrectionPropose = "correction.propose", "提出台账更正", "Propose a registry correction", [];
    CorrectionDecline = "correction.decline", "不采纳台账更正", "Decline a registry correction", [];
    UnitSave = "unit.save", "保存承办单位", "Save a handling unit", [];
    UnitJoin = "unit.join", "新增单位人员", "Add a person to a unit", [];
    UnitLeave = "unit.leave", "结束单位人员", "End a unit membership", [];
    CommunitySettings = "community.settings", "修改社区派遣设置", "Change a community's dispatch settings", [];
    TagCreate = "tag.create", "新建标签", "Create a tag", [];
    RevealIdCard = "reveal.id_card", "查看完整身份证号", "Reveal an ID number", [];
    RevealPhone = "reveal.phone", "查看完整电话", "Reveal a phone number", [];
    RevealFindings = "reveal.findings", "查看走访发现", "Reveal what a visit found", [];
    ImportResidents = "import.residents", "导入人员台账", "Import residents", [];
    ImportUpdateResident = "import.update_resident", "按台账更新人员", "Update a resident from a ledger", [];
    ExportResidents = "export.residents", "导出人员台账", "Export residents", [];
    ExportDemands = "export.demands", "导出诉求台账", "Export demands", [];
    ExportCampaign = "export.campaign", "导出排查结果", "Export a campaign's results", [];
    CampaignStart = "campaign.start", "发起排查", "Start a campaign", [];
    CampaignForm = "campaign.form", "修改排查表单", "Change a campaign's form", [];
    CampaignAnswer = "campaign.answer", "填写排查", "Answer a campaign target", [];
    CampaignMark = "campaign.mark", "标记排查对象", "Mark a campaign target", [];
    CampaignTemplate = "campaign.template", "保存或停止排查模板", "Save or stop a campaign template", [];
    CampaignConflict = "campaign.conflict", "处理排查登记冲突", "Settle a campaign's registry conflict", [];
    CampaignPurge = "campaign.purge", "到期删除排查答案", "Purge a campaign's answers after retention", [];
    CampaignPhoto = "campaign.photo", "上传排查照片", "Send a photo for a campaign's answer", [];
    CampaignPhotoView = "campaign.photo.view", "查看排查照片", "View a campaign's photo", [];
    InstructionSend = "instruction.send", "下发指令", "Send an instruction", [];
    InstructionPass = "instruction.pass", "转发指令", "Pass an instruction down", [];
    InstructionRead = "instruction.read", "签收指令", "Confirm receipt of an instruction", [];
    InstructionReport = "instruction.report", "上报指令", "Report on an instruction", [];
    InstructionReturn = "instruction.return", "退回指令报告", "Return a report", [];
    InstructionAccept = "instruction.accept", "采纳指令报告", "Accept a report", [];
    VisitPhotoView = "visit.photo.view", "查看走访照片", "View a visit's photo", [];
    InstructionFileView = "instruction.file.view", "查看指令附件", "View a file of an instruction", [];
    PartyOrgSave = "party.org.save", "保存党组织", "Save a Party organisation", [];
    PartyMemberAdd = "party.member.add", "登记党员", "Add a Party member", [];
    PartyMemberUpdate = "party.member.update", "修改党员信息", "Change a Party member", [];
    PartyMemberReveal = "party.member.reveal", "查看党员完整证件号或电话", "Reveal a Party member's number", [];
    PartyUnitSave = "party.unit.save", "保存报到单位", "Save a registered unit", [];
    PartyRegister = "party.register", "双报到登记", "Register (double registration)", [];
    PartyRegistrationStep = "party.registration.step", "办理报到", "Confirm, refuse or withdraw a registration", [];
    PartyNeedAdd = "party.need.add", "发布服务需求", "Publish a need", [];
    PartyClaim = "party.claim", "认领服务需求", "Claim a need", [];
    PartyServiceRecord = "party.service.record", "登记党员服务", "Record service", [];
    PartyServiceDecide = "party.service.decide", "确认党员服务", "Confirm or reject service", [];
    PartyPhotoView = "party.photo.view", "查看党员服务照片", "View a service photo", [];
    PartyFeedbackSend = "party.feedback.send", "发送报到单位反馈", "Send a unit's feedback", [];
    PartySettings = "party.settings", "修改党建设置", "Change the Party settings", [];
    PartyAccountOpen = "party.account.open", "为党员开通账号", "Open an account for a Party member", [];
    PartyAccountDisable = "party.account.disable", "停用党员账号", "Disable a Party member's account", [];
    PartyAccountEnable = "party.account.enable", "重新启用党员账号", "Enable a Party member's account again", [];
    PartyRollGrant = "party.roll.grant", "授权查看党员名册", "Grant access to the Party roll", [];
    PartyRollRevoke = "party.roll.revoke", "收回党员名册授权", "Revoke access to the Party roll", [];
    PartyCardConsent = "party.card.consent", "党员同意亮身份", "A Party member's consent to a public card", [];
    PartyCardRevoke = "party.card.revoke", "撤回亮身份同意", "Revoke a Party member's public card", [];
    PartyMeetingRecord = "party.meeting.record", "登记组织生活会议", "Record a meeting of organisational life", [];
    PartyLifeRules = "party.life.rules", "设置组织生活频次和任期", "Set the frequencies and term of organisational life", [];
    PartyJointRecord = "party.joint.record", "登记联席会议", "Record a joint meeting", [];
    PartyResolutionOutcome = "party.resolution.outcome", "决议转为项目或指令", "Turn a resolution into a project or an instruction", [];
    PartyResourceSave = "party.resource.save", "登记共建资源", "Record or change a resource", [];
    PartyProjectSave = "party.project.save", "修改共建项目", "Change a project", [];
    PartyProjectStep = "party.project.step", "共建项目进展", "Move a project forward", [];
    PartyProjectRate = "party.project.rate", "居民评价共建项目", "A resident rates a project", [];
    NoticeSave = "notice.save", "保存通知", "Save a notice", [];
    NoticeStep = "notice.step", "通知审核发布", "Submit, publish, return or withdraw a notice", [];
    SurveySave = "survey.save", "保存问卷", "Save a survey", [];
    SurveyState = "survey.state", "开放或结束问卷", "Open or close a survey", [];
    SurveyAnswerOnBehalf = "survey.answer", "代录问卷答卷", "Enter a survey answer for a resident", [];
    SurveyExport = "survey.export", "导出问卷结果", "Export a survey's results", [];
    ActivitySave = "activity.save", "发布社区活动", "Announce an activity", [];
    ActivitySignup = "activity.signup", "活动报名", "Sign up for an activity", [];
    ActivityCheck = "activity.check", "活动签到签退", "Check in or out at an activity", [];
    ActivityCancel = "activity.cancel", "取消活动报名", "Cancel a sign-up", [];
    ActivityRate = "activity.rate", "评价社区活动", "Rate an activity", [];
    VentureCall = "venture.call", "微创投征集与评审进度", "Open or move on a venture call", [];
    VentureApplication = "venture.application", "登记微创投申报", "Take in a venture application", [];
    VentureScore = "venture.score", "录入评委评分", "Enter a judge's scores", [];
    VentureGrant = "venture.grant", "微创投资金拨付", "Grant a venture project", [];
    VentureSpend = "venture.spend", "登记微创投支出", "Record a venture project's spending", [];
    VentureEvaluate = "venture.evaluate", "微创投评估", "Evaluate a venture project", [];
    VentureRate = "venture.rate", "居民评价微创投项目", "A resident rates a venture project", [];
    DemandCreate = "demand.create", "登记诉求", "Take in a demand", [];
    DemandAttach = "demand.attach", "上传诉求附件", "Attach to a demand", [];
    DemandAttachmentView = "demand.attachment.view", "查看诉求照片", "View a demand's photo", [];
    DemandAttachmentDownload = "demand.attachment.download", "下载诉求附件", "Download a demand's attachment", [];
    DemandAccept = "demand.accept", "受理", "Accept", [];
    DemandReject = "demand.reject", "不予受理", "Reject", [];
    DemandMerge = "demand.merge", "合并", "Merge", [];
    DemandDispatch = "demand.dispatch", "派遣", "Dispatch", [];
    DemandStart = "demand.start", "开始处置", "Start", [];
    DemandProgress = "demand.progress", "进展", "Progress note", [];
    DemandReportDone = "demand.report_done", "办结反馈", "Report done", [];
    DemandVerify = "demand.verify", "核查", "Verify", [];
    DemandSendBack = "demand.send_back", "核查不通过", "Send back", [];
    DemandClose = "demand.close", "结案", "Close", [];
    DemandAnswer = "demand.answer", "答复", "Answer", [];
    DemandRate = "demand.rate", "评价", "Rate", [];
    DemandEscalate = "demand.escalate", "上报", "Escalate", [];
    DemandHandBack = "demand.hand_back", "下派", "Hand back", [];
    DemandCategorySave = "demand_category.save", "保存诉求分类", "Save a demand category", [];
    RatingDaysSet = "demand.rating_days", "设置评价期限", "Set the days to rate", [];
    HolidaySet = "holiday.set", "设置节假日", "Set a holiday", [];
    WebhookCreate = "webhook.create", "新建推送", "Create a webhook", [];
    WebhookDeactivate = "webhook.deactivate", "停用推送", "Deactivate a webhook", [];
});

impl AuditAction {
    /// The event a step of the demands loop is logged as.
    pub fn of_step(step: Step) -> Self {
        match step {
            Step::Accept => Self::DemandAccept,
            Step::Reject => Self::DemandReject,
            Step::Merge => Self::DemandMerge,
            Step::Dispatch => Self::DemandDispatch,
            Step::Start => Self::DemandStart,
            Step::Progress => Self::DemandProgress,
            Step::ReportDone => Self::DemandReportDone,
            Step::Verify => Self::DemandVerify,
            Step::SendBack => Self::DemandSendBack,
            Step::Close => Self::DemandClose,
            Step::Answer => Self::DemandAnswer,
            Step::Rate => Self::DemandRate,
            Step::Escalate => Self::DemandEscalate,
            Step::HandBack => Self::DemandHandBack,
        }
    }

    /// Every kind whose code starts with `prefix` followed by a dot or nothing: the
    /// audit page's filter by a family (`reveal` finds both reveals).
    pub fn family(prefix: &str) -> Vec<Self> {
        Self::all()
            .iter()
            .copied()
            .filter(|a| a.code() == prefix || a.code().strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.')))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_is_logged_under_its_own_code() {
        for &step in Step::all() {
            assert_eq!(AuditAction::of_step(step).code(), format!("demand.{}", step.code()));
        }
    }

    #[test]
    fn codes_are_unique_and_families_find_their_members() {
        let mut codes: Vec<_> = AuditAction::all().iter().map(|a| a.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), AuditAction::all().len());
        assert_eq!(
            AuditAction::family("reveal"),
            [AuditAction::RevealIdCard, AuditAction::RevealPhone, AuditAction::RevealFindings]
        );
        assert_eq!(AuditAction::family("login"), [AuditAction::Login], "not login_failed");
    }
}
