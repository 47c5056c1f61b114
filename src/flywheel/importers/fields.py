"""What each import expects: its fields, their English and Chinese column names, their parsers."""

from __future__ import annotations

from dataclasses import dataclass, field

from flywheel.importers import values as v
from flywheel.importers.values import Parser


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    parser: Parser
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str = ""


@dataclass(frozen=True, slots=True)
class EntitySpec:
    entity: str
    key: str
    fields: tuple[FieldSpec, ...]
    notes: str = ""
    by_name: dict[str, FieldSpec] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


CUSTOMER_REF = (
    "客户编号",
    "客户代码",
    "客户编码",
    "客户号",
    "客户id",
    "customer code",
    "customer no",
    "customer number",
    "customer id",
    "customer",
    "account code",
    "account",
    "客户",
)
CURRENCY = FieldSpec("currency", v.currency, ("币种", "货币", "币别", "currency", "ccy", "curr"))
TERMS = FieldSpec(
    "payment_terms",
    v.terms,
    (
        "付款条件",
        "账期",
        "付款期限",
        "信用期",
        "结算方式",
        "payment terms",
        "terms",
        "credit terms",
    ),
    help="NET30, EOM60, 30天, 月结60天 …",
)

CUSTOMERS = EntitySpec(
    entity="customers",
    key="code",
    fields=(
        FieldSpec(
            "code",
            v.identifier,
            (
                "客户编号",
                "客户代码",
                "客户编码",
                "客户号",
                "编号",
                "customer code",
                "customer no",
                "customer number",
                "customer id",
                "account code",
                "code",
            ),
            required=True,
        ),
        FieldSpec(
            "name",
            v.bounded_text(200),
            (
                "客户名称",
                "公司名称",
                "客户全称",
                "名称",
                "customer name",
                "account name",
                "company",
                "company name",
                "name",
            ),
            required=True,
        ),
        FieldSpec(
            "tier",
            v.tier,
            ("客户等级", "客户分级", "客户类型", "等级", "层级", "tier", "segment"),
            help="key / growth / standard (大客户 / 成长 / 普通)",
        ),
        FieldSpec("industry", v.bounded_text(80), ("行业", "所属行业", "industry", "sector")),
        FieldSpec(
            "region",
            v.bounded_text(80),
            ("区域", "地区", "大区", "销售区域", "region", "territory", "area"),
        ),
        FieldSpec(
            "owner",
            v.identifier,
            (
                "客户经理",
                "负责人",
                "销售",
                "所属销售",
                "销售代表",
                "业务员",
                "owner",
                "account manager",
                "sales rep",
                "account owner",
            ),
            help="username of the account owner; unknown names are created as sales users",
        ),
        FieldSpec(
            "parent",
            v.identifier,
            (
                "上级客户",
                "母公司",
                "集团",
                "上级客户编号",
                "parent",
                "parent code",
                "parent account",
            ),
        ),
        CURRENCY,
        TERMS,
        FieldSpec(
            "status",
            v.customer_status,
            ("状态", "客户状态", "status"),
            help="active / inactive / prospect / churned",
        ),
        FieldSpec(
            "referred_by",
            v.identifier,
            ("推荐人", "推荐客户", "介绍人", "推荐客户编号", "referred by", "referrer", "referral"),
        ),
        FieldSpec(
            "created_on",
            v.date_value,
            (
                "创建日期",
                "建档日期",
                "开户日期",
                "合作日期",
                "created",
                "created on",
                "created date",
                "customer since",
                "since",
            ),
        ),
    ),
)

CONTACTS = EntitySpec(
    entity="contacts",
    key="customer+email (or customer+name when there is no email)",
    fields=(
        FieldSpec("customer", v.identifier, CUSTOMER_REF, required=True),
        FieldSpec(
            "name",
            v.bounded_text(120),
            ("联系人", "姓名", "联系人姓名", "contact", "contact name", "name", "full name"),
            required=True,
        ),
        FieldSpec(
            "title", v.bounded_text(120), ("职务", "职位", "头衔", "title", "job title", "position")
        ),
        FieldSpec(
            "buying_role",
            v.buying_role,
            ("角色", "采购角色", "决策角色", "buying role", "role"),
            help="decision_maker / influencer / user / finance / gatekeeper",
        ),
        FieldSpec("email", v.email, ("邮箱", "电子邮件", "电子邮箱", "email", "e-mail", "mail")),
        FieldSpec(
            "phone",
            v.bounded_text(40),
            ("电话", "手机", "联系电话", "手机号", "phone", "mobile", "tel", "telephone"),
        ),
        FieldSpec(
            "language", v.language, ("语言", "首选语言", "language", "preferred language", "lang")
        ),
    ),
)

ORDERS = EntitySpec(
    entity="orders",
    key="number",
    fields=(
        FieldSpec(
            "number",
            v.identifier,
            (
                "订单号",
                "订单编号",
                "销售单号",
                "合同号",
                "order no",
                "order number",
                "order",
                "number",
            ),
            required=True,
        ),
        FieldSpec("customer", v.identifier, CUSTOMER_REF, required=True),
        FieldSpec(
            "order_date",
            v.date_value,
            ("订单日期", "下单日期", "签订日期", "日期", "order date", "date"),
            required=True,
        ),
        FieldSpec(
            "amount",
            v.non_negative_amount,
            # Gross before net: a sales export with both 含税金额 and 金额 is owed the gross.
            (
                "含税金额",
                "价税合计",
                "订单金额",
                "合同金额",
                "总金额",
                "金额",
                "order amount",
                "total",
                "amount",
            ),
            required=True,
        ),
        CURRENCY,
        FieldSpec("status", v.order_status, ("状态", "订单状态", "status")),
        FieldSpec(
            "delivered_on",
            v.date_value,
            (
                "交付日期",
                "发货日期",
                "送货日期",
                "交货日期",
                "delivered on",
                "delivery date",
                "delivered",
            ),
        ),
    ),
)

INVOICES = EntitySpec(
    entity="invoices",
    key="number",
    notes=(
        "Rows with the same invoice number on consecutive lines are the installments of one "
        "invoice: each gives its due date and installment amount."
    ),
    fields=(
        FieldSpec(
            "number",
            v.identifier,
            (
                "发票号",
                "发票号码",
                "发票编号",
                "应收单号",
                "单据号",
                "单据编号",
                "invoice no",
                "invoice number",
                "invoice",
                "number",
            ),
            required=True,
        ),
        FieldSpec("customer", v.identifier, CUSTOMER_REF, required=True),
        FieldSpec(
            "order",
            v.identifier,
            ("订单号", "订单编号", "销售单号", "order no", "order number", "order"),
        ),
        FieldSpec(
            "issue_date",
            v.date_value,
            (
                "开票日期",
                "发票日期",
                "单据日期",
                "日期",
                "invoice date",
                "issue date",
                "issued",
                "date",
            ),
            required=True,
        ),
        FieldSpec(
            "due_date",
            v.date_value,
            (
                "到期日",
                "到期日期",
                "应收日期",
                "付款到期日",
                "应付日期",
                "due date",
                "due",
                "due on",
            ),
        ),
        TERMS,
        FieldSpec(
            "amount",
            v.positive_amount,
            # Gross before net: a VAT invoice export has 金额 (net), 税额 and 价税合计 (gross),
            # and the receivable is the gross.
            (
                "价税合计",
                "含税金额",
                "应收金额",
                "发票金额",
                "总金额",
                "金额",
                "invoice amount",
                "total",
                "amount",
            ),
            required=True,
        ),
        CURRENCY,
        FieldSpec(
            "installment_amount",
            v.positive_amount,
            ("分期金额", "本期金额", "installment amount", "installment"),
        ),
    ),
)

PAYMENTS = EntitySpec(
    entity="payments",
    key="reference",
    fields=(
        FieldSpec(
            "reference",
            v.identifier,
            (
                "收款单号",
                "流水号",
                "银行流水号",
                "交易流水号",
                "回单号",
                "收款编号",
                "payment reference",
                "payment ref",
                "reference",
                "receipt no",
                "transaction id",
                "ref",
            ),
            required=True,
        ),
        FieldSpec("customer", v.identifier, CUSTOMER_REF, required=True),
        FieldSpec(
            "received_on",
            v.date_value,
            (
                "收款日期",
                "到账日期",
                "付款日期",
                "日期",
                "received on",
                "payment date",
                "received",
                "date",
            ),
            required=True,
        ),
        FieldSpec(
            "amount",
            v.positive_amount,
            ("金额", "收款金额", "到账金额", "付款金额", "amount", "payment amount"),
            required=True,
        ),
        CURRENCY,
        FieldSpec(
            "method",
            v.payment_method,
            ("收款方式", "付款方式", "结算方式", "支付方式", "method", "payment method"),
        ),
        FieldSpec(
            "invoice",
            v.identifier,
            (
                "发票号",
                "发票号码",
                "对应发票",
                "核销发票",
                "invoice no",
                "invoice number",
                "invoice",
            ),
        ),
    ),
)

CREDIT_NOTES = EntitySpec(
    entity="credit-notes",
    key="number",
    fields=(
        FieldSpec(
            "number",
            v.identifier,
            (
                "红字发票号",
                "红冲单号",
                "贷项通知单号",
                "折让单号",
                "credit note no",
                "credit note number",
                "credit note",
                "number",
            ),
            required=True,
        ),
        FieldSpec(
            "invoice",
            v.identifier,
            ("发票号", "原发票号", "发票号码", "invoice no", "invoice number", "invoice"),
            required=True,
        ),
        FieldSpec(
            "issue_date",
            v.date_value,
            ("日期", "开具日期", "红冲日期", "issue date", "date"),
            required=True,
        ),
        FieldSpec(
            "amount",
            v.amount_value,
            ("金额", "红冲金额", "折让金额", "amount"),
            required=True,
            help="positive, or negative as accounting exports write it; the size is used",
        ),
        FieldSpec(
            "reason",
            v.bounded_text(500),
            ("原因", "红冲原因", "备注", "说明", "reason", "note", "notes"),
        ),
    ),
)

TOUCHPOINTS = EntitySpec(
    entity="touchpoints",
    key="reference (or a fingerprint of customer, kind, time, contact and summary)",
    fields=(
        FieldSpec("reference", v.identifier, ("编号", "记录编号", "reference", "ref", "id")),
        FieldSpec("customer", v.identifier, CUSTOMER_REF, required=True),
        FieldSpec(
            "kind",
            v.touchpoint_kind,
            ("类型", "方式", "接触方式", "跟进方式", "kind", "type", "channel"),
            required=True,
            help="call / visit / meeting / email / delivery / support / qbr",
        ),
        FieldSpec(
            "occurred_at",
            v.datetime_value,
            (
                "时间",
                "日期",
                "接触时间",
                "跟进时间",
                "跟进日期",
                "when",
                "date",
                "occurred at",
                "time",
            ),
            required=True,
        ),
        FieldSpec(
            "contact", v.bounded_text(254), ("联系人", "contact", "contact name", "contact email")
        ),
        FieldSpec(
            "user",
            v.identifier,
            ("跟进人", "负责人", "销售", "客户经理", "who", "user", "owner", "by"),
        ),
        FieldSpec(
            "summary",
            v.bounded_text(4000),
            ("内容", "纪要", "摘要", "跟进内容", "备注", "summary", "notes", "note", "description"),
        ),
        FieldSpec(
            "satisfaction", v.satisfaction, ("满意度", "评分", "satisfaction", "score", "csat")
        ),
    ),
)

ENTITIES: dict[str, EntitySpec] = {
    spec.entity: spec
    for spec in (CUSTOMERS, CONTACTS, ORDERS, INVOICES, PAYMENTS, CREDIT_NOTES, TOUCHPOINTS)
}
