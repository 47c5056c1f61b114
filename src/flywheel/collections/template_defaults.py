"""The message and letter templates Flywheel ships, in Chinese and English.

Each is a subject and a plain-text body in Jinja, rendered in the sandbox of
``collections.templates`` with the context described there. A user's edit (a
``MessageTemplate`` row) replaces the default for one key and language; resetting it brings the
default back. ``team_alert`` is short Markdown for a chat robot; the others are what the
customer reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DefaultTemplate:
    subject: str
    body: str


# The order the template list shows them in: the dunning ladder from gentle to firm, then the rest.
KEYS: tuple[str, ...] = (
    "friendly_reminder",
    "due_reminder",
    "overdue_notice",
    "final_notice",
    "formal_letter",
    "broken_promise",
    "thank_you",
    "statement",
    "team_alert",
)
LANGUAGES: tuple[str, ...] = ("zh", "en")

# One line per item, shared by the defaults (each template keeps its own copy once edited).
_ITEMS_ZH = """{% for item in items %}
  · 发票号 {{ item.invoice }}{% if item.sequence > 1 %}（第 {{ item.sequence }} 期）{% endif %}，到期日 {{ item.due_date|date }}，未付金额 {{ item.open_amount|money(currency) }}，{{ item.days_overdue|overdue }}
{% endfor %}
"""

_ITEMS_EN = """{% for item in items %}
  - Invoice {{ item.invoice }}{% if item.sequence > 1 %} (installment {{ item.sequence }}){% endif %}, due {{ item.due_date|date }}, open {{ item.open_amount|money(currency) }}, {{ item.days_overdue|overdue }}
{% endfor %}
"""

_GREETING_ZH = "{% if contact %}尊敬的{{ contact.name }}：{% else %}尊敬的{{ customer.name }}财务部：{% endif %}\n\n"
_GREETING_EN = "{% if contact %}Dear {{ contact.name }},{% else %}Dear Accounts Payable team of {{ customer.name }},{% endif %}\n\n"

_SIGNATURE_ZH = """{% if owner %}
{{ owner.name }}
{% endif %}
{{ company }} 财务部"""

_SIGNATURE_EN = """{% if owner %}
{{ owner.name }}
{% endif %}
Accounts Receivable, {{ company }}"""


DEFAULTS: dict[str, dict[str, DefaultTemplate]] = {
    "friendly_reminder": {
        "zh": DefaultTemplate(
            subject="【温馨提示】{{ customer.name }} 近期到期款项提醒",
            body=_GREETING_ZH
            + """
您好！感谢贵司一直以来对{{ company }}的信任与支持。

为方便贵司提前安排付款计划，现将近期即将到期的款项列示如下（截至 {{ as_of|date }}）：

"""
            + _ITEMS_ZH
            + """
合计：{{ total_open|money(currency) }}

如贵司已安排付款，请忽略本邮件。如需我们补开发票、提供对账单或其他资料，欢迎随时与我们联系，我们将竭诚为您服务。

顺祝商祺！

"""
            + _SIGNATURE_ZH,
        ),
        "en": DefaultTemplate(
            subject="A friendly reminder: payments coming due for {{ customer.name }}",
            body=_GREETING_EN
            + """
Thank you for your continued business; we truly appreciate working with you.

To help you plan ahead, here is a short note of the payments coming due soon (as of {{ as_of|date }}):

"""
            + _ITEMS_EN
            + """
Total: {{ total_open|money(currency) }}

If payment is already on its way, please disregard this message. Should you need a copy of an invoice, a statement or anything else from us, just reply to this e-mail and we will be glad to help.

Kind regards,

"""
            + _SIGNATURE_EN,
        ),
    },
    "due_reminder": {
        "zh": DefaultTemplate(
            subject="【付款提醒】{{ customer.name }} 款项已到期",
            body=_GREETING_ZH
            + """
您好！感谢贵司对{{ company }}的支持。

经核对，截至 {{ as_of|date }}，贵司以下款项已到期，烦请安排付款：

"""
            + _ITEMS_ZH
            + """
未付合计：{{ total_open|money(currency) }}，其中已到期 {{ total_overdue|money(currency) }}。

如贵司已付款，请忽略本邮件，并烦请将付款凭证回复给我们，以便及时核销。如对上述款项有任何疑问，请随时与我们联系。

谢谢！

"""
            + _SIGNATURE_ZH,
        ),
        "en": DefaultTemplate(
            subject="Payment reminder: invoices now due for {{ customer.name }}",
            body=_GREETING_EN
            + """
We hope all is well. According to our records, the following items are now due as of {{ as_of|date }}:

"""
            + _ITEMS_EN
            + """
Total open: {{ total_open|money(currency) }}, of which {{ total_overdue|money(currency) }} is due.

We would be grateful if you could arrange payment at your earliest convenience. If you have already paid, please disregard this reminder; a copy of the remittance advice helps us apply it quickly. If anything on this list looks wrong to you, please let us know.

Thank you,

"""
            + _SIGNATURE_EN,
        ),
    },
    "overdue_notice": {
        "zh": DefaultTemplate(
            subject="【逾期通知】{{ customer.name }} 逾期款项 {{ total_overdue|money(currency) }}，请尽快安排支付",
            body=_GREETING_ZH
            + """
您好！截至 {{ as_of|date }}，贵司以下款项已超过约定付款期限，最长逾期 {{ max_days_overdue }} 天：

"""
            + _ITEMS_ZH
            + """
逾期合计：{{ total_overdue|money(currency) }}（未付合计 {{ total_open|money(currency) }}）。

请贵司于收到本通知后尽快安排支付，并告知我们预计付款日期。如付款存在困难或对账目有异议，请及时与我们沟通，我们愿意共同商议解决方案。

如已付款，请忽略本邮件，并将付款凭证回复给我们，以便核销。

此致
敬礼！

"""
            + _SIGNATURE_ZH,
        ),
        "en": DefaultTemplate(
            subject="Overdue notice: {{ total_overdue|money(currency) }} past due for {{ customer.name }}",
            body=_GREETING_EN
            + """
Our records show that, as of {{ as_of|date }}, the following items are past their agreed payment date (the oldest by {{ max_days_overdue }} days):

"""
            + _ITEMS_EN
            + """
Total overdue: {{ total_overdue|money(currency) }} (total open: {{ total_open|money(currency) }}).

Please arrange payment promptly and let us know the date we can expect it. If there is a difficulty with payment or a question about any item, please contact us now so that we can find a solution together.

If you have already paid, please disregard this notice and send us the remittance advice so that we can apply it.

Yours sincerely,

"""
            + _SIGNATURE_EN,
        ),
    },
    "final_notice": {
        "zh": DefaultTemplate(
            subject="【最后催告】{{ customer.name }} 逾期款项 {{ total_overdue|money(currency) }}",
            body=_GREETING_ZH
            + """
我司此前已多次就下列逾期款项与贵司联系，但截至 {{ as_of|date }} 仍未收到付款，最长逾期已达 {{ max_days_overdue }} 天：

"""
            + _ITEMS_ZH
            + """
逾期合计：{{ total_overdue|money(currency) }}。

我们十分珍视与贵司的合作关系，因此再次正式提请贵司于 7 日内付清上述款项，或与我们联系确定明确的还款安排。如届时仍未收到付款或回复，我司将不得不暂停后续供货与信用额度，并依据合同约定移交法务部门处理，由此产生的费用将由贵司承担。

如贵司已付款，请忽略本通知，并将付款凭证发送给我们。

此致
敬礼！

"""
            + _SIGNATURE_ZH,
        ),
        "en": DefaultTemplate(
            subject="Final notice: {{ total_overdue|money(currency) }} overdue for {{ customer.name }}",
            body=_GREETING_EN
            + """
We have contacted you several times about the overdue items below, but as of {{ as_of|date }} we have not received payment; the oldest is now {{ max_days_overdue }} days past due:

"""
            + _ITEMS_EN
            + """
Total overdue: {{ total_overdue|money(currency) }}.

We value our relationship with you, and we would much prefer to settle this together. We therefore ask you, formally, to pay the amount above within 7 days, or to contact us within that time to agree a firm payment plan. Otherwise we will have to suspend further deliveries and credit and refer the matter to our legal department under the terms of our contract, at your expense.

If you have already paid, please disregard this notice and send us the remittance advice.

Yours sincerely,

"""
            + _SIGNATURE_EN,
        ),
    },
    # Printed on letterhead (documents.py adds the letterhead, date, addressee and the schedule
    # of the open items below the body).
    "formal_letter": {
        "zh": DefaultTemplate(
            subject="催款函",
            body=_GREETING_ZH
            + """
贵我双方合作以来，我司一直按约履行供货义务。截至 {{ as_of|date }}，贵司尚有逾期款项 {{ total_overdue|money(currency) }} 未付（未付合计 {{ total_open|money(currency) }}，最长逾期 {{ max_days_overdue }} 天），明细详见附表。

特此函告，请贵司于收到本函之日起 10 日内将上述款项付至我司账户。如对款项有异议，请在此期限内以书面形式告知我司。逾期未付亦未回复的，我司将保留依法追索欠款及相关费用的权利。

感谢贵司的理解与配合，期待双方继续保持良好的合作关系。

此致
敬礼！

"""
            + _SIGNATURE_ZH,
        ),
        "en": DefaultTemplate(
            subject="Demand for payment",
            body=_GREETING_EN
            + """
We have supplied your company in accordance with our agreement. As of {{ as_of|date }}, {{ total_overdue|money(currency) }} remains overdue on your account (total open {{ total_open|money(currency) }}; the oldest item {{ max_days_overdue }} days past due), as set out in the schedule below.

We hereby request payment of this amount to our account within 10 days of the date of this letter. Should you dispute any item, please inform us in writing within the same period. If we receive neither payment nor a reply, we reserve the right to recover the debt and our costs by legal means.

We thank you for your attention to this matter and look forward to continuing our good relationship.

Yours faithfully,

"""
            + _SIGNATURE_EN,
        ),
    },
    "broken_promise": {
        "zh": DefaultTemplate(
            subject="【付款承诺未履行】{{ customer.name }} 付款跟进",
            body=_GREETING_ZH
            + """
您好！{% if promise %}贵司此前承诺于 {{ promise.promised_on|date }} 前支付 {{ promise.amount|money(currency) }}，{% endif %}截至 {{ as_of|date }}，我们尚未收到该笔款项。相关未付款项如下：

"""
            + _ITEMS_ZH
            + """
未付合计：{{ total_open|money(currency) }}，其中逾期 {{ total_overdue|money(currency) }}。

想必贵司可能遇到了一些情况，烦请尽快回复我们新的付款日期，或告知需要我们协助的地方。如款项已付出，请将付款凭证发给我们，并忽略本邮件。

谢谢！

"""
            + _SIGNATURE_ZH,
        ),
        "en": DefaultTemplate(
            subject="Following up on your payment commitment, {{ customer.name }}",
            body=_GREETING_EN
            + """
{% if promise %}You kindly promised to pay {{ promise.amount|money(currency) }} by {{ promise.promised_on|date }}. {% endif %}As of {{ as_of|date }}, we have not yet received that payment. The open items are:

"""
            + _ITEMS_EN
            + """
Total open: {{ total_open|money(currency) }}, of which {{ total_overdue|money(currency) }} is overdue.

Something may have come up on your side. Please reply with a new payment date, or tell us how we can help. If the payment has already been made, please send us the remittance advice and disregard this message.

Thank you,

"""
            + _SIGNATURE_EN,
        ),
    },
    "thank_you": {
        "zh": DefaultTemplate(
            subject="【付款确认】感谢贵司付款 — {{ company }}",
            body=_GREETING_ZH
            + """
您好！我司已收到贵司的付款，截至 {{ as_of|date }}，贵司在我司的逾期款项已全部结清。衷心感谢贵司的配合与支持！

如今后在订货、发票或付款方面有任何需要，欢迎随时与我们联系。期待与贵司继续携手合作。

顺祝商祺！

"""
            + _SIGNATURE_ZH,
        ),
        "en": DefaultTemplate(
            subject="Thank you for your payment — {{ company }}",
            body=_GREETING_EN
            + """
We have received your payment, and as of {{ as_of|date }} your overdue balance with us is fully settled. Thank you very much for taking care of it!

If there is ever anything we can do for you on orders, invoices or payments, please do not hesitate to contact us. We look forward to continuing to work with you.

Best regards,

"""
            + _SIGNATURE_EN,
        ),
    },
    "statement": {
        "zh": DefaultTemplate(
            subject="【对账单】{{ company }} 与 {{ customer.name }} 往来对账（截至 {{ as_of|date }}）",
            body=_GREETING_ZH
            + """
您好！为确保双方账务一致，现将截至 {{ as_of|date }} 贵司在我司的未结清款项对账单发送给您：

"""
            + _ITEMS_ZH
            + """
未付合计：{{ total_open|money(currency) }}，其中已逾期 {{ total_overdue|money(currency) }}。

请点击以下链接查看完整对账单（可下载 PDF），并在线确认余额；如对某笔款项有异议，也可直接在页面中逐笔提出：
{{ statement_url }}

烦请于收到后 7 日内回复确认。如已付款，请忽略未付提示，并将付款凭证发给我们以便核对。感谢贵司的支持与配合！

顺祝商祺！

"""
            + _SIGNATURE_ZH,
        ),
        "en": DefaultTemplate(
            subject="Statement of account from {{ company }} as of {{ as_of|date }}",
            body=_GREETING_EN
            + """
To make sure our records agree, please find below the open items on your account with us as of {{ as_of|date }}:

"""
            + _ITEMS_EN
            + """
Total open: {{ total_open|money(currency) }}, of which {{ total_overdue|money(currency) }} is overdue.

The full statement (with a PDF copy) is at the link below, where you can confirm the balance in one click, or tell us about any item you disagree with:
{{ statement_url }}

We would appreciate your reply within 7 days. If you have already paid, please send us the remittance advice so that we can reconcile it. Thank you for your help!

Kind regards,

"""
            + _SIGNATURE_EN,
        ),
    },
    "team_alert": {
        "zh": DefaultTemplate(
            subject="催收提醒：{{ customer.name }}（{{ customer.code }}）",
            body="""**催收提醒：{{ customer.name }}（{{ customer.code }}）**
逾期 {{ total_overdue|money(currency) }}，最长逾期 {{ max_days_overdue }} 天，未付合计 {{ total_open|money(currency) }}
{% for item in items %}
- {{ item.invoice }}：到期 {{ item.due_date|date }}，未付 {{ item.open_amount|money(currency) }}，{{ item.days_overdue|overdue }}
{% endfor %}
客户经理：{{ owner.name if owner else "未分配" }}""",
        ),
        "en": DefaultTemplate(
            subject="Collections alert: {{ customer.name }} ({{ customer.code }})",
            body="""**Collections alert: {{ customer.name }} ({{ customer.code }})**
Overdue {{ total_overdue|money(currency) }}, oldest {{ max_days_overdue }} days, total open {{ total_open|money(currency) }}
{% for item in items %}
- {{ item.invoice }}: due {{ item.due_date|date }}, open {{ item.open_amount|money(currency) }}, {{ item.days_overdue|overdue }}
{% endfor %}
Account owner: {{ owner.name if owner else "unassigned" }}""",
        ),
    },
}
