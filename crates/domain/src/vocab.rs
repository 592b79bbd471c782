//! The closed vocabularies of the registry. Each term has a stable English code (what
//! the database and the API store), a Chinese label (what ledgers and screens show)
//! and an English label; parsing accepts any of those plus the synonyms found in real
//! ledgers, so an import can read "男性", "M" or "male" alike.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{term}' is not a known {vocabulary}; use one of: {known}")]
pub struct UnknownTerm {
    pub term: String,
    pub vocabulary: &'static str,
    pub known: String,
    /// The terms in English, for English readers.
    pub known_en: String,
}

impl crate::Explain for UnknownTerm {
    fn message(&self) -> crate::Message {
        crate::msg!("vocab.unknown", term = &self.term)
            .lang_arg("vocabulary", vocabulary_zh(self.vocabulary), self.vocabulary)
            .lang_arg("known", &self.known, &self.known_en)
    }
}

/// The Chinese name of a vocabulary, from its English one (`Vocabulary::NAME`).
fn vocabulary_zh(name: &str) -> &str {
    match name {
        "gender" => "性别",
        "residence type" => "人员类型",
        "relation to the household head" => "与户主关系",
        "political status" => "政治面貌",
        "occupancy" => "居住情况",
        "building kind" => "建筑类型",
        "organisation kind" => "单位类型",
        "resident status" => "人员状态",
        "role" => "角色",
        "action" => "权限",
        "demand kind" => "诉求类型",
        "channel" => "来源渠道",
        "demand status" => "办理状态",
        "handler kind" => "承办方类型",
        "handling level" => "办理层级",
        "module" => "业务模块",
        "step" => "办理步骤",
        "resident event" => "人员变动",
        "unit role" => "单位角色",
        "audited event" => "审计事件",
        "team post" => "网格职务",
        "visit channel" => "走访方式",
        "visit outcome" => "走访结果",
        "party organisation kind" => "党组织类型",
        "party member kind" => "党员类型",
        "party member status" => "党员状态",
        "party member event" => "党员变动",
        "registration state" => "报到状态",
        "registration step" => "报到操作",
        "service state" => "服务记录状态",
        "need source" => "需求来源",
        "service field" => "服务领域",
        "resource kind" => "资源类型",
        "project state" => "项目状态",
        "project step" => "项目操作",
        "resolution outcome" => "决议去向",
        "activity kind" => "活动类型",
        "sign-up state" => "报名状态",
        "sign-up channel" => "报名方式",
        other => other,
    }
}

/// What every vocabulary offers.
pub trait Vocabulary: Sized + Copy + 'static {
    const NAME: &'static str;
    fn all() -> &'static [Self];
    fn code(self) -> &'static str;
    fn label_zh(self) -> &'static str;
    fn label_en(self) -> &'static str;
    fn synonyms(self) -> &'static [&'static str];

    /// Reads a code, a label in either language or a known synonym.
    fn parse(input: &str) -> Result<Self, UnknownTerm> {
        let s = crate::text::normalize(input);
        let lower = s.to_lowercase();
        Self::all()
            .iter()
            .copied()
            .find(|t| {
                t.code() == lower
                    || t.label_zh() == s
                    || t.label_en().to_lowercase() == lower
                    || t.synonyms().iter().any(|syn| syn.to_lowercase() == lower)
            })
            .ok_or_else(|| UnknownTerm {
                term: s,
                vocabulary: Self::NAME,
                known: Self::all().iter().map(|t| t.label_zh()).collect::<Vec<_>>().join("、"),
                known_en: Self::all().iter().map(|t| t.label_en()).collect::<Vec<_>>().join(", "),
            })
    }

    /// Reads a stored code; stored codes were written by us, so a miss is a bug or a
    /// newer schema, reported rather than guessed.
    fn from_code(code: &str) -> Option<Self> {
        Self::all().iter().copied().find(|t| t.code() == code)
    }
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $title:literal {
        $($(#[$vdoc:meta])* $variant:ident = $code:literal, $zh:literal, $en:literal, [$($syn:literal),*];)*
    }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl Vocabulary for $name {
            const NAME: &'static str = $title;
            fn all() -> &'static [Self] { &[$(Self::$variant),*] }
            fn code(self) -> &'static str { match self { $(Self::$variant => $code),* } }
            fn label_zh(self) -> &'static str { match self { $(Self::$variant => $zh),* } }
            fn label_en(self) -> &'static str { match self { $(Self::$variant => $en),* } }
            fn synonyms(self) -> &'static [&'static str] { match self { $(Self::$variant => &[$($syn),*]),* } }
        }
    };
}

pub(crate) use vocabulary;

vocabulary!(Gender, "gender" {
    Male = "male", "男", "Male", ["男性", "m"];
    Female = "female", "女", "Female", ["女性", "f"];
});

vocabulary!(
    /// 人员类型: how a person belongs to the community.
    ResidenceType, "residence type" {
    Registered = "registered", "户籍", "Registered", ["户籍人口", "户籍人员", "本地户籍"];
    Permanent = "permanent", "常住", "Permanent", ["常住人口", "常住人员", "人户分离"];
    Floating = "floating", "流动", "Floating", ["流动人口", "流动人员", "外来人口", "暂住"];
    Overseas = "overseas", "境外", "Overseas", ["境外人员", "外籍"];
    Other = "other", "其他", "Other", [];
});

vocabulary!(
    /// 与户主关系
    Relation, "relation to the household head" {
    Head = "head", "户主", "Head", ["本人"];
    Spouse = "spouse", "配偶", "Spouse", ["妻", "夫", "妻子", "丈夫"];
    Child = "child", "子女", "Child", ["子", "女", "儿子", "女儿", "长子", "长女", "次子", "次女"];
    Parent = "parent", "父母", "Parent", ["父亲", "母亲", "父", "母"];
    Grandchild = "grandchild", "孙子女", "Grandchild", ["孙子", "孙女", "外孙", "外孙女"];
    Grandparent = "grandparent", "祖父母", "Grandparent", ["祖父", "祖母", "外祖父", "外祖母"];
    Sibling = "sibling", "兄弟姐妹", "Sibling", ["兄", "弟", "姐", "妹"];
    ChildInLaw = "child_in_law", "儿媳女婿", "Child-in-law", ["儿媳", "女婿"];
    Tenant = "tenant", "租户", "Tenant", ["租住", "承租人"];
    Other = "other", "其他", "Other", [];
});

vocabulary!(
    /// 政治面貌
    PoliticalStatus, "political status" {
    PartyMember = "party_member", "中共党员", "CPC member", ["党员"];
    ProbationaryMember = "probationary_member", "中共预备党员", "Probationary CPC member", ["预备党员"];
    LeagueMember = "league_member", "共青团员", "CYL member", ["团员"];
    OtherParty = "other_party", "民主党派", "Member of another party", [];
    Masses = "masses", "群众", "None", ["普通群众", "无党派人士", "无"];
});

vocabulary!(
    /// 房屋使用情况
    Occupancy, "occupancy" {
    OwnerOccupied = "owner_occupied", "自住", "Owner-occupied", ["自有"];
    Rented = "rented", "出租", "Rented", ["租赁"];
    Vacant = "vacant", "空置", "Vacant", ["闲置"];
    Other = "other", "其他", "Other", [];
});

vocabulary!(BuildingKind, "building kind" {
    Residential = "residential", "住宅楼", "Residential building", ["楼房", "住宅"];
    Bungalow = "bungalow", "平房", "Bungalow", [];
    Shop = "shop", "商铺", "Shop", ["门面房", "沿街商铺"];
    Office = "office", "办公楼", "Office building", [];
    Mixed = "mixed", "商住楼", "Mixed use", [];
    Other = "other", "其他", "Other", [];
});

vocabulary!(OrganisationKind, "organisation kind" {
    Enterprise = "enterprise", "企业", "Enterprise", ["驻区企业", "公司"];
    PropertyCompany = "property_company", "物业公司", "Property company", ["物业"];
    SocialOrganisation = "social_organisation", "社会组织", "Social organisation", ["社团"];
    School = "school", "学校", "School", ["幼儿园"];
    GovernmentUnit = "government_unit", "机关事业单位", "Government unit", ["机关", "事业单位"];
    Medical = "medical", "医疗机构", "Medical institution", ["卫生室", "诊所"];
    Other = "other", "其他", "Other", [];
});

vocabulary!(
    /// Whether a person is on the community's current roll. Nobody is ever deleted.
    ResidentStatus, "resident status" {
    Active = "active", "在册", "Active", ["在住"];
    MovedOut = "moved_out", "已迁出", "Moved out", ["迁出"];
    Deceased = "deceased", "已故", "Deceased", ["死亡"];
});

vocabulary!(
    /// What a person does in the system; with their scope (a node of the hierarchy)
    /// it decides what they may see and do. See docs/security.md for the matrix.
    Role, "role" {
    PlatformAdmin = "platform_admin", "平台管理员", "Platform administrator", ["管理员", "admin"];
    CityOfficial = "city_official", "市级工作人员", "City official", ["市"];
    DistrictOfficial = "district_official", "区级工作人员", "District official", ["区"];
    StreetOfficial = "street_official", "街道工作人员", "Street official", ["街道"];
    CommunitySecretary = "community_secretary", "社区书记", "Community secretary", ["书记"];
    CommunityStaff = "community_staff", "社区工作者", "Community staff", ["社工"];
    GridLeader = "grid_leader", "网格长", "Grid leader", [];
    GridMember = "grid_member", "网格员", "Grid member", [];
    Auxiliary = "auxiliary", "楼长/志愿者/物业", "Building head, volunteer or property staff", ["楼长", "志愿者", "物业"];
    PartySecretary = "party_secretary", "党组织书记", "Party organisation secretary", [];
    Resident = "resident", "居民", "Resident", [];
});

vocabulary!(
    /// What happened to a person on the roll: the entries of their history.
    ResidentEventKind, "resident event" {
    Registered = "registered", "登记", "Registered", [];
    MovedIn = "moved_in", "迁入", "Moved in", [];
    MovedOut = "moved_out", "迁出", "Moved out", [];
    MovedHouse = "moved_house", "搬家", "Moved house", ["户内迁移"];
    /// A correction of their record.
    Updated = "updated", "信息更正", "Record corrected", ["更正"];
});

vocabulary!(
    /// The product modules: where a notification, an audit entry or a figure comes
    /// from. A module that is not built yet has no code here.
    Module, "module" {
    Registry = "registry", "基础台账", "Registry", ["台账"];
    Demands = "demands", "民情诉求", "Demands", ["诉求"];
    Security = "security", "账号安全", "Accounts and security", ["账号"];
    Cockpit = "cockpit", "驾驶舱", "Cockpit", ["数据驾驶舱", "周报"];
    Visits = "visits", "走访", "Home visits", ["入户走访"];
    Instructions = "instructions", "指令", "Instructions", ["工作指令", "任务"];
    Party = "party", "党建", "Party building", ["党建引领", "双报到"];
    Participation = "participation", "居民参与", "Participation", ["社区活动", "通知问卷"];
});

vocabulary!(
    /// What a unit (单位: an organisation on the registry) is to the modules. One
    /// organisation can hold several roles, each over an area it serves.
    UnitRole, "unit role" {
    /// Takes dispatched demands (a community or street department, a utility).
    HandlerDepartment = "handler_department", "承办部门", "Handling department", ["承办单位", "职能部门"];
    /// Manages estates; takes property matters.
    PropertyCompany = "property_company", "物业服务企业", "Property company", ["物业"];
    /// Stationed in the area (驻区单位), taking part in joint building.
    Stationed = "stationed", "驻区单位", "Stationed organisation", ["共建单位"];
    /// Registered with the community for Party work (双报到 of organisations).
    PartyRegistered = "party_registered", "报到单位", "Party-registered unit", ["双报到单位"];
    /// A social organisation that may apply for community projects.
    SocialOrganisation = "social_organisation", "社会组织", "Social organisation", ["社团"];
    /// The community's call-back desk (回访): its people with an account may reveal
    /// a reporter's phone to call them back, for the items of the area it serves.
    CallBack = "call_back", "回访组", "Call-back desk", ["回访", "回访员"];
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_labels_and_synonyms() {
        assert_eq!(Gender::parse("男性").unwrap(), Gender::Male);
        assert_eq!(Gender::parse(" F ").unwrap(), Gender::Female);
        assert_eq!(PoliticalStatus::parse("党员").unwrap(), PoliticalStatus::PartyMember);
        assert_eq!(PoliticalStatus::parse("party_member").unwrap(), PoliticalStatus::PartyMember);
        assert_eq!(ResidenceType::parse("流动人口").unwrap(), ResidenceType::Floating);
        assert_eq!(Relation::parse("女儿").unwrap(), Relation::Child);
        assert_eq!(Occupancy::from_code("rented"), Some(Occupancy::Rented));
    }

    #[test]
    fn unknown_terms_list_what_is_allowed() {
        let err = Gender::parse("unknown").unwrap_err();
        assert_eq!(err.vocabulary, "gender");
        assert!(err.to_string().contains("男、女"), "{err}");
        assert_eq!(err.known_en, "Male, Female");
    }

    #[test]
    fn every_vocabulary_has_a_chinese_name() {
        use crate::demands::{Channel, DemandKind, DemandStatus, HandlerKind, Level};
        let names = [
            Gender::NAME,
            ResidenceType::NAME,
            Relation::NAME,
            PoliticalStatus::NAME,
            Occupancy::NAME,
            BuildingKind::NAME,
            OrganisationKind::NAME,
            ResidentStatus::NAME,
            crate::Role::NAME,
            DemandKind::NAME,
            Channel::NAME,
            DemandStatus::NAME,
            HandlerKind::NAME,
            Level::NAME,
            Module::NAME,
            UnitRole::NAME,
            crate::demands::Step::NAME,
            ResidentEventKind::NAME,
            crate::AuditAction::NAME,
        ];
        for name in names {
            assert!(!super::vocabulary_zh(name).is_ascii(), "{name} needs a Chinese name");
        }
    }

    #[test]
    fn every_term_parses_back_from_its_own_labels() {
        fn check<V: Vocabulary + PartialEq + std::fmt::Debug>() {
            for &t in V::all() {
                assert_eq!(V::parse(t.code()).unwrap(), t);
                assert_eq!(V::parse(t.label_zh()).unwrap(), t);
                assert_eq!(V::parse(t.label_en()).unwrap(), t);
            }
        }
        check::<Gender>();
        check::<ResidenceType>();
        check::<Relation>();
        check::<PoliticalStatus>();
        check::<Occupancy>();
        check::<BuildingKind>();
        check::<OrganisationKind>();
        check::<ResidentStatus>();
    }
}

vocabulary!(
    /// A post in a grid's "1 + X + N" team: the grid leader (the 1), the grid members
    /// (the X) and the N others who help.
    TeamPost, "team post" {
    Leader = "leader", "网格长", "Grid leader", ["网格长（负责人）"];
    Member = "member", "网格员", "Grid member", ["专职网格员", "专职"];
    PartyMember = "party_member", "党员", "Party member", ["党员中心户"];
    Volunteer = "volunteer", "志愿者", "Volunteer", [];
    BuildingHead = "building_head", "楼长", "Building head", ["楼栋长", "单元长"];
    Property = "property", "物业人员", "Property staff", ["物业"];
    Police = "police", "民警", "Police liaison", ["社区民警", "片警", "辅警"];
    Other = "other", "其他", "Other", [];
});
