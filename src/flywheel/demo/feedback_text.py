"""Phrase fragments (zh and en) from which the demo composes survey comments and dispute notes.

Each topic has complaints ("negative"), praise ("positive") and mild, negated complaints
("negated": "交货不算慢", "not bad") that read positive to a person but trip a word counter.
Fragments are clauses without final punctuation; the composer joins them."""

from __future__ import annotations

# The topics the comments talk about; the codes follow the product's default taxonomy.
TOPICS: tuple[str, ...] = (
    "delivery",
    "product_quality",
    "price",
    "service",
    "billing",
    "communication",
    "packaging",
    "returns",
    "documentation",
)

FRAGMENTS: dict[str, dict[str, dict[str, list[str]]]] = {
    "zh": {
        "delivery": {
            "negative": [
                "交货又延迟了一周", "物流太慢，比约定晚了好几天", "发货时间一拖再拖",
                "交期总是不准，影响我们排产", "到货数量少了两箱", "送货司机态度很差",
            ],
            "positive": [
                "交货非常准时", "物流很快，提前两天就到了", "发货及时，没有耽误生产",
                "交期很稳定", "紧急订单也能按时送到",
            ],
            "negated": ["交货不算慢", "发货还算及时，没出大问题", "物流没有以前那么拖了"],
        },
        "product_quality": {
            "negative": [
                "产品质量不稳定", "这批货有不少次品", "质量明显不如以前",
                "有一批零件尺寸不合格", "用了不到一个月就坏了", "来料检验不合格率太高",
            ],
            "positive": [
                "产品质量很好", "质量稳定，几乎没有次品", "性能比我们预期的还好",
                "做工精细，经久耐用", "质量一直很可靠",
            ],
            "negated": ["质量没什么大问题", "产品质量不差", "次品率不算高"],
        },
        "price": {
            "negative": [
                "价格太贵了", "今年又涨价，很难接受", "报价比同行高出不少",
                "性价比越来越低", "价格调整也不提前通知",
            ],
            "positive": [
                "价格很合理", "性价比很高", "报价有竞争力", "给的折扣很实在",
            ],
            "negated": ["价格不算贵", "价格也还行", "报价不离谱"],
        },
        "service": {
            "negative": [
                "售后响应太慢", "客服电话总是打不通", "问题拖了两周还没解决",
                "服务态度冷淡", "技术支持不专业", "售后人员推来推去没人负责",
            ],
            "positive": [
                "售后服务很到位", "技术支持专业又耐心", "客服响应非常及时",
                "服务团队很负责", "工程师当天就到现场解决了问题",
            ],
            "negated": ["服务还不错", "售后不算差", "响应速度还可以"],
        },
        "billing": {
            "negative": [
                "发票总是开错", "对账单和发票对不上", "重复开票，还要我们自己去核对",
                "开票太慢，影响我们付款", "账单金额有误，改了三次才对",
            ],
            "positive": [
                "开票准确及时", "对账很清楚，财务很省心", "发票和对账单一次就对上了",
            ],
            "negated": ["发票基本没出错", "对账不算麻烦"],
        },
        "communication": {
            "negative": [
                "沟通效率很低", "客户经理经常联系不上", "邮件几天都没人回复",
                "变更信息没有及时通知我们", "说好的回电一直没有等到",
            ],
            "positive": [
                "沟通非常顺畅", "客户经理很专业，回复很快", "有问题总能及时沟通",
                "项目进展随时同步，很透明",
            ],
            "negated": ["沟通还算顺畅", "回复不算慢"],
        },
        "packaging": {
            "negative": [
                "包装破损严重", "外箱被压坏了", "包装太简陋，货物受潮",
                "标签贴错了，仓库很难收货",
            ],
            "positive": [
                "包装很结实", "包装规范，标签清楚", "货物包装得很仔细，没有一点损坏",
            ],
            "negated": ["包装没什么问题", "包装还行"],
        },
        "returns": {
            "negative": [
                "退货流程太复杂", "退款等了一个多月", "换货拖了很久",
                "退货申请一直没人处理",
            ],
            "positive": [
                "退换货很方便", "退款很快就到账了", "换货处理得很及时",
            ],
            "negated": ["退货流程不算复杂", "退款还算快"],
        },
        "documentation": {
            "negative": [
                "随货资料不全", "缺少质检报告和合格证", "说明书写得不清楚",
                "报关单据经常出错",
            ],
            "positive": [
                "随货文件齐全", "技术文档很详细", "质检报告每次都附上了",
            ],
            "negated": ["资料基本齐全", "文档不算难懂"],
        },
    },
    "en": {
        "delivery": {
            "negative": [
                "delivery was late again", "shipping took far too long",
                "the delivery dates keep slipping", "lead times are unreliable and hurt our planning",
                "two cartons were missing from the shipment", "the driver was rude",
            ],
            "positive": [
                "delivery was right on time", "shipping was fast, two days early",
                "deliveries are always on schedule", "even the rush order arrived on time",
                "lead times are very reliable",
            ],
            "negated": ["delivery was not too slow", "shipping was not bad this time",
                        "no big delays this time"],
        },
        "product_quality": {
            "negative": [
                "quality is inconsistent", "this batch had a lot of defects",
                "quality is clearly worse than before", "several parts were out of tolerance",
                "the unit broke within a month", "too many parts fail incoming inspection",
            ],
            "positive": [
                "product quality is excellent", "quality is consistent with almost no defects",
                "performance is better than we expected", "very solid and durable product",
                "quality has always been reliable",
            ],
            "negated": ["no real quality issues", "quality is not bad", "defect rate is not high"],
        },
        "price": {
            "negative": [
                "prices are too high", "another price increase this year is hard to accept",
                "your quote was well above the competition", "value for money keeps dropping",
                "the price change came without notice",
            ],
            "positive": [
                "pricing is fair", "great value for money", "the quote was very competitive",
                "the discount was generous",
            ],
            "negated": ["the price is not unreasonable", "pricing is not too bad"],
        },
        "service": {
            "negative": [
                "support is far too slow", "nobody answers the service hotline",
                "the issue has been open for two weeks", "service feels indifferent",
                "tech support did not know the product", "after-sales keeps passing us around",
            ],
            "positive": [
                "after-sales service is excellent", "tech support was patient and knowledgeable",
                "support responds very quickly", "the service team really cares",
                "an engineer came on site the same day",
            ],
            "negated": ["service was not bad", "support was not slow this time"],
        },
        "billing": {
            "negative": [
                "invoices are often wrong", "the statement does not match the invoices",
                "we were billed twice for one order", "invoicing is so slow it delays our payment",
                "the invoice amount had to be corrected three times",
            ],
            "positive": [
                "invoices are accurate and on time", "statements are clear and easy to reconcile",
                "billing matched our records first time",
            ],
            "negated": ["billing had no real errors", "reconciliation was not painful"],
        },
        "communication": {
            "negative": [
                "communication is poor", "our account manager is hard to reach",
                "emails go unanswered for days", "we were not told about the changes",
                "the promised call back never came",
            ],
            "positive": [
                "communication is smooth", "our account manager is responsive and professional",
                "we always get quick answers", "project updates are clear and timely",
            ],
            "negated": ["communication was not an issue", "replies were not slow"],
        },
        "packaging": {
            "negative": [
                "the packaging was damaged", "cartons arrived crushed",
                "poor packaging let moisture in", "labels were wrong and slowed down receiving",
            ],
            "positive": [
                "packaging is sturdy", "packing and labels are neat",
                "everything was packed carefully, nothing damaged",
            ],
            "negated": ["packaging was not a problem", "no damage this time"],
        },
        "returns": {
            "negative": [
                "the return process is too complicated", "the refund took over a month",
                "the replacement took ages", "nobody handled our return request",
            ],
            "positive": [
                "returns are easy", "the refund came quickly", "the replacement was handled fast",
            ],
            "negated": ["the return was not complicated", "refund was not too slow"],
        },
        "documentation": {
            "negative": [
                "shipping documents were incomplete", "the inspection certificate was missing",
                "the manual is unclear", "customs paperwork is often wrong",
            ],
            "positive": [
                "documentation is complete", "the technical docs are detailed",
                "test reports always come with the goods",
            ],
            "negated": ["documents were mostly complete", "the manual is not hard to follow"],
        },
    },
}  # fmt: skip

# Openers and joints. A concession opens a complaint with a bit of praise ("mixed").
CONCESSIONS: dict[str, list[str]] = {
    "zh": ["产品本身还行，但是", "合作多年了，不过", "整体可以接受，就是", "虽然价格合适，但"],
    "en": ["the product itself is fine, but ", "we have worked together for years, but ",
           "overall acceptable, however ", "price is ok but "],
}  # fmt: skip
AND: dict[str, list[str]] = {
    "zh": ["，而且", "；另外", "，还有", "，"],
    "en": [", and ", "; also ", ". Also ", ", plus "],
}
BUT: dict[str, list[str]] = {
    "zh": ["，但是", "，不过", "，就是", "。可惜"],
    "en": [" but ", ", however ", ", although ", ". Only thing: "],
}
ENDINGS: dict[str, dict[str, list[str]]] = {
    "zh": {
        "negative": ["。", "，很失望。", "，希望尽快改进。", "！", "，请重视。"],
        "neutral": ["。", "，希望继续改进。", "，总体一般。"],
        "positive": ["。", "，非常满意！", "，会继续合作。", "，愿意推荐给同行。", "，谢谢！"],
    },
    "en": {
        "negative": [".", ". Very disappointed.", ". Please fix this.", "!", ". Not acceptable."],
        "neutral": [".", ". Room to improve.", ". Average overall."],
        "positive": [".", ". Very happy!", ". Keep it up.", ". Happy to recommend you.",
                     ". Thanks!"],
    },
}  # fmt: skip
GENERIC: dict[str, dict[str, list[str]]] = {
    "zh": {
        "negative": ["很失望", "体验很差", "不满意", "越来越差了"],
        "neutral": ["总体还可以", "一般般吧", "没有特别的意见", "中规中矩", "还行"],
        "positive": ["非常满意", "合作愉快", "很好", "一如既往的好"],
    },
    "en": {
        "negative": ["very disappointed", "poor experience", "not satisfied", "getting worse"],
        "neutral": ["ok overall", "average", "nothing special to add", "fine I guess",
                    "it was alright"],
        "positive": ["very satisfied", "great partner", "excellent", "as good as always"],
    },
}  # fmt: skip

# Answers that say nothing, whatever the score.
FILLERS: dict[str, list[str]] = {
    "zh": ["无", "同上", "暂无", "详见邮件", "没有", "无意见"],
    "en": ["n/a", "see my email", "nothing", "no comment", "-", "none"],
}

# Urgent sentences a few detractors add; (flag, text).
URGENT: dict[str, list[tuple[str, str]]] = {
    "zh": [
        ("churn_threat", "再这样下去我们会考虑换供应商。"),
        ("churn_threat", "下个季度可能不续约了。"),
        ("churn_threat", "已经在和其他供应商接触了。"),
        ("legal", "我们保留追究法律责任的权利。"),
        ("legal", "已经让法务看合同条款了。"),
        ("escalation", "我会直接向你们总经理投诉。"),
        ("escalation", "请你们领导给个说法。"),
        ("safety", "这批货存在安全隐患，工人差点受伤。"),
    ],
    "en": [
        ("churn_threat", "If this continues we will switch suppliers."),
        ("churn_threat", "We are considering not renewing the contract."),
        ("churn_threat", "We have already started talking to other vendors."),
        ("legal", "We reserve the right to take legal action."),
        ("legal", "Our lawyers are reviewing the contract."),
        ("escalation", "I will escalate this to your CEO."),
        ("escalation", "I want your management to call me."),
        ("safety", "This batch is a safety hazard for our operators."),
    ],
}

# A promoter's small wish: keeps a positive text from being all praise.
WISHES: dict[str, list[str]] = {
    "zh": ["希望价格再优惠一点。", "如果交期能再短一些就更好了。", "希望发票能开得快一点。",
           "建议多安排一些技术培训。"],
    "en": ["Would love a slightly better price.", "Shorter lead times would be even better.",
           "Invoices could come a bit faster.", "More product training would help."],
}  # fmt: skip

# Owner's notes when a follow-up is closed, by outcome.
CALLBACK_NOTES: dict[str, dict[str, list[str]]] = {
    "zh": {
        "resolved": ["已电话回访，问题已解决，客户表示认可。", "上门沟通后客户满意，已闭环。"],
        "partly_resolved": ["已回访，部分问题解决，剩余事项跟进中。", "给出补偿方案，客户基本接受。"],
        "not_resolved": ["已回访，客户仍不满意，需要管理层介入。", "客户不接受方案，继续跟进。"],
        "no_contact": ["多次致电未接通，已发邮件。", "联系人已离职，未能联系上。"],
    },
    "en": {
        "resolved": ["Called back, issue fixed, customer satisfied.",
                     "Visited on site; customer happy, loop closed."],
        "partly_resolved": ["Called back; part of the issue fixed, rest in progress.",
                            "Offered a credit, customer mostly accepted."],
        "not_resolved": ["Called back; still unhappy, management needs to step in.",
                         "Customer rejected the proposal; follow-up continues."],
        "no_contact": ["Several calls unanswered; sent an email.",
                       "Contact has left the company; could not reach anyone."],
    },
}  # fmt: skip

# A dispute's description as the collector wrote it down, by dispute reason.
DISPUTE_NOTES: dict[str, dict[str, list[str]]] = {
    "zh": {
        "price": ["客户称单价与合同不符，对涨价非常不满，要求按合同价重开发票。",
                  "采购认为报价比约定高，拒付差额。"],
        "quantity": ["客户反映到货数量短少，要求核减后再付款。",
                     "仓库收货时少了两箱，客户很生气。"],
        "quality": ["客户投诉这批货质量不合格，要求折让或退货。",
                    "来料检验不合格，客户威胁要换供应商。"],
        "delivery": ["交货延迟导致客户停线，客户要求赔偿。", "货物晚到一周，客户拒付运费部分。"],
        "missing_documents": ["缺少质检报告和合格证，客户财务不予付款。",
                              "发票信息不全，客户要求重开。"],
        "duplicate_invoice": ["客户发现重复开票，要求冲销。", "同一订单开了两张发票，客户很不满意。"],
        "other": ["客户对账有疑问，暂缓付款，态度尚可。", "客户提出异议，需要进一步核实。"],
    },
    "en": {
        "price": ["Customer says the unit price differs from the contract and is upset about it.",
                  "Buyer claims the quote was higher than agreed and refuses the difference."],
        "quantity": ["Short shipment reported; they will pay after the amount is reduced.",
                     "Two cartons missing at receiving, the customer is annoyed."],
        "quality": ["Quality complaint on this batch; they ask for a discount or a return.",
                    "Failed incoming inspection; they threaten to switch suppliers."],
        "delivery": ["Late delivery stopped their line; they ask for compensation.",
                     "Goods arrived a week late; they refuse to pay the freight."],
        "missing_documents": ["Inspection certificate missing, their AP will not pay.",
                              "Invoice details incomplete; they want it reissued."],
        "duplicate_invoice": ["They found a duplicate invoice and ask for a credit.",
                              "Two invoices for one order; the customer is unhappy."],
        "other": ["Questions on the statement; payment on hold, tone is friendly.",
                  "Customer raised an objection that needs checking."],
    },
}  # fmt: skip
