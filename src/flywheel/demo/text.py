"""Word lists and phrase fragments (zh and en) from which the demo composes names and comments."""

from __future__ import annotations

# (surname, pinyin, relative frequency) — the most common Chinese surnames, roughly weighted.
ZH_SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.2), ("赵", "zhao", 2.0),
    ("吴", "wu", 1.8), ("周", "zhou", 1.7), ("徐", "xu", 1.3), ("孙", "sun", 1.3),
    ("马", "ma", 1.2), ("朱", "zhu", 1.2), ("胡", "hu", 1.1), ("郭", "guo", 1.1),
    ("何", "he", 0.9), ("高", "gao", 0.9), ("林", "lin", 0.9), ("罗", "luo", 0.8),
    ("郑", "zheng", 0.8), ("梁", "liang", 0.7), ("谢", "xie", 0.6), ("宋", "song", 0.6),
    ("唐", "tang", 0.5), ("许", "xu", 0.5), ("韩", "han", 0.5), ("冯", "feng", 0.5),
    ("邓", "deng", 0.5), ("曹", "cao", 0.5), ("彭", "peng", 0.4), ("曾", "zeng", 0.4),
    ("肖", "xiao", 0.4), ("田", "tian", 0.4), ("董", "dong", 0.4), ("袁", "yuan", 0.4),
    ("潘", "pan", 0.3), ("于", "yu", 0.3), ("蒋", "jiang", 0.3), ("蔡", "cai", 0.3),
    ("余", "yu", 0.3), ("杜", "du", 0.3), ("叶", "ye", 0.3), ("程", "cheng", 0.3),
    ("苏", "su", 0.3), ("魏", "wei", 0.3), ("吕", "lv", 0.3), ("丁", "ding", 0.3),
    ("任", "ren", 0.3), ("沈", "shen", 0.3), ("姚", "yao", 0.2), ("卢", "lu", 0.2),
    ("方", "fang", 0.2), ("钟", "zhong", 0.2), ("汪", "wang", 0.2), ("陆", "lu", 0.2),
]  # fmt: skip

# Characters of given names with their pinyin; one or two of them make a given name.
ZH_GIVEN: list[tuple[str, str]] = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("建", "jian"), ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("鹏", "peng"), ("宇", "yu"),
    ("浩", "hao"), ("俊", "jun"), ("晨", "chen"), ("欣", "xin"), ("怡", "yi"), ("佳", "jia"),
    ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("颖", "ying"), ("峰", "feng"), ("斌", "bin"),
    ("海", "hai"), ("波", "bo"), ("志", "zhi"), ("红", "hong"), ("玉", "yu"), ("兰", "lan"),
    ("梅", "mei"), ("晓", "xiao"), ("东", "dong"), ("亮", "liang"), ("飞", "fei"), ("凯", "kai"),
    ("思", "si"), ("雨", "yu"), ("子", "zi"), ("涵", "han"), ("博", "bo"), ("瑞", "rui"),
    ("嘉", "jia"), ("慧", "hui"), ("倩", "qian"), ("丹", "dan"), ("阳", "yang"), ("立", "li"),
    ("成", "cheng"), ("新", "xin"), ("春", "chun"), ("秋", "qiu"), ("泽", "ze"), ("宁", "ning"),
]  # fmt: skip

EN_FIRST: list[str] = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Susan", "Richard", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
    "Matthew", "Emily", "Anthony", "Laura", "Mark", "Olivia", "Paul", "Sophie", "Steven", "Emma",
    "Andrew", "Hannah", "Peter", "Anna", "Lucas", "Chloe", "Kevin", "Grace", "Brian", "Julia",
    "Oliver", "Mia", "Henrik", "Ingrid", "Kenji", "Yuki", "Minho", "Jiyeon", "Arjun", "Priya",
    "Marco", "Giulia", "Pierre", "Claire", "Felix", "Lena", "Raj", "Siti", "Wei", "Mei",
]  # fmt: skip

EN_LAST: list[str] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips", "Campbell", "Parker",
    "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Schmidt",
    "Müller", "Fischer", "Weber", "Tanaka", "Suzuki", "Kim", "Park", "Lee", "Tan", "Lim", "Wong",
    "Rossi", "Bianchi", "Dubois", "Laurent", "Sharma", "Patel", "Nguyen", "Santos", "Jansen",
]  # fmt: skip

# Sales regions of China (weighted by how much B2B business sits there), then abroad.
CHINA_REGIONS: list[tuple[str, float]] = [
    ("华东", 0.36), ("华南", 0.20), ("华北", 0.15), ("华中", 0.09),
    ("西南", 0.09), ("东北", 0.06), ("西北", 0.05),
]  # fmt: skip
INTERNATIONAL_REGIONS: list[tuple[str, float]] = [
    ("东南亚", 0.30), ("日韩", 0.20), ("欧洲", 0.25), ("北美", 0.20), ("中东", 0.05),
]  # fmt: skip

# (city, pinyin) per China region: company names and subsidiaries are named after them.
CHINA_CITIES: dict[str, list[tuple[str, str]]] = {
    "华东": [("上海", "shanghai"), ("苏州", "suzhou"), ("杭州", "hangzhou"), ("南京", "nanjing"),
             ("宁波", "ningbo"), ("无锡", "wuxi"), ("合肥", "hefei"), ("济南", "jinan"),
             ("青岛", "qingdao"), ("厦门", "xiamen"), ("福州", "fuzhou"), ("常州", "changzhou")],
    "华南": [("深圳", "shenzhen"), ("广州", "guangzhou"), ("东莞", "dongguan"), ("佛山", "foshan"),
             ("珠海", "zhuhai"), ("南宁", "nanning"), ("海口", "haikou"), ("中山", "zhongshan")],
    "华北": [("北京", "beijing"), ("天津", "tianjin"), ("石家庄", "shijiazhuang"),
             ("太原", "taiyuan"), ("呼和浩特", "huhehaote"), ("唐山", "tangshan")],
    "华中": [("武汉", "wuhan"), ("长沙", "changsha"), ("郑州", "zhengzhou"), ("南昌", "nanchang"),
             ("洛阳", "luoyang"), ("宜昌", "yichang")],
    "西南": [("成都", "chengdu"), ("重庆", "chongqing"), ("昆明", "kunming"), ("贵阳", "guiyang"),
             ("绵阳", "mianyang")],
    "东北": [("沈阳", "shenyang"), ("大连", "dalian"), ("长春", "changchun"),
             ("哈尔滨", "haerbin")],
    "西北": [("西安", "xian"), ("兰州", "lanzhou"), ("银川", "yinchuan"), ("乌鲁木齐", "wulumuqi")],
}  # fmt: skip

INTERNATIONAL_CITIES: dict[str, list[str]] = {
    "东南亚": ["Singapore", "Kuala Lumpur", "Bangkok", "Ho Chi Minh City", "Jakarta", "Manila"],
    "日韩": ["Tokyo", "Osaka", "Nagoya", "Seoul", "Busan"],
    "欧洲": ["Hamburg", "Munich", "Rotterdam", "Milan", "Lyon", "Manchester", "Warsaw"],
    "北美": ["Chicago", "Houston", "Atlanta", "Toronto", "San Jose", "Detroit"],
    "中东": ["Dubai", "Riyadh", "Doha"],
}

# Legal-form suffix of an English company name by region.
EN_SUFFIX_BY_REGION: dict[str, list[str]] = {
    "东南亚": ["Pte. Ltd.", "Sdn. Bhd.", "Co., Ltd."],
    "日韩": ["Co., Ltd.", "K.K.", "Corporation"],
    "欧洲": ["GmbH", "B.V.", "S.r.l.", "Ltd", "SAS"],
    "北美": ["Inc.", "LLC", "Corp."],
    "中东": ["LLC", "FZE"],
    "china": ["(China) Co., Ltd.", "(Shanghai) Co., Ltd.", "Trading Co., Ltd."],
}

# (industry label, Chinese business words, English business words)
INDUSTRIES: list[tuple[str, list[str], list[str]]] = [
    ("机械制造", ["精密机械", "机械设备", "智能装备", "重工"], ["Precision Machinery", "Industrial Equipment", "Engineering"]),
    ("电子元器件", ["电子", "微电子", "半导体", "电子科技"], ["Electronics", "Semiconductor", "Components"]),
    ("汽车零部件", ["汽车零部件", "汽配", "车业"], ["Automotive Parts", "Auto Components", "Mobility"]),
    ("医疗器械", ["医疗器械", "生物医疗", "医疗科技"], ["Medical Devices", "Healthcare Technologies"]),
    ("化工材料", ["化工", "新材料", "精细化工"], ["Chemicals", "Advanced Materials", "Polymers"]),
    ("食品饮料", ["食品", "饮品", "食品科技"], ["Foods", "Beverages", "Nutrition"]),
    ("物流仓储", ["物流", "供应链管理", "仓储服务"], ["Logistics", "Supply Chain", "Freight"]),
    ("零售连锁", ["商贸", "商业连锁", "零售"], ["Retail", "Trading", "Stores"]),
    ("建筑工程", ["建设工程", "建材", "建筑科技"], ["Construction", "Building Materials"]),
    ("软件与信息服务", ["软件", "信息技术", "数字科技", "网络科技"], ["Software", "Digital Solutions", "Information Systems"]),
    ("能源电力", ["能源", "电力设备", "新能源科技"], ["Energy", "Power Systems", "Renewables"]),
    ("纺织服装", ["纺织", "服饰", "织造"], ["Textiles", "Apparel", "Fabrics"]),
    ("包装印刷", ["包装", "印务", "包装材料"], ["Packaging", "Printing", "Labels"]),
]  # fmt: skip
INDUSTRY_WEIGHTS: list[float] = [14, 12, 10, 6, 8, 7, 7, 6, 7, 8, 5, 5, 5]

# (character, pinyin) — two of them make the trade name (字号) of a Chinese company.
ZH_TRADE_CHARS: list[tuple[str, str]] = [
    ("恒", "heng"), ("瑞", "rui"), ("华", "hua"), ("信", "xin"), ("宏", "hong"), ("达", "da"),
    ("鼎", "ding"), ("盛", "sheng"), ("金", "jin"), ("诚", "cheng"), ("丰", "feng"), ("博", "bo"),
    ("远", "yuan"), ("天", "tian"), ("成", "cheng"), ("永", "yong"), ("泰", "tai"), ("新", "xin"),
    ("源", "yuan"), ("凯", "kai"), ("汇", "hui"), ("通", "tong"), ("联", "lian"), ("创", "chuang"),
    ("嘉", "jia"), ("禾", "he"), ("海", "hai"), ("纳", "na"), ("启", "qi"), ("明", "ming"),
    ("安", "an"), ("德", "de"), ("润", "run"), ("锦", "jin"), ("优", "you"), ("川", "chuan"),
    ("骏", "jun"), ("正", "zheng"), ("拓", "tuo"), ("荣", "rong"), ("宝", "bao"), ("龙", "long"),
    ("光", "guang"), ("和", "he"), ("祥", "xiang"), ("精", "jing"), ("卓", "zhuo"), ("越", "yue"),
    ("顺", "shun"), ("腾", "teng"), ("鹏", "peng"), ("升", "sheng"), ("国", "guo"), ("宇", "yu"),
    ("鸿", "hong"), ("万", "wan"), ("致", "zhi"), ("科", "ke"), ("中", "zhong"), ("东", "dong"),
    ("立", "li"), ("晟", "sheng"), ("奥", "ao"), ("易", "yi"), ("佳", "jia"), ("富", "fu"),
]  # fmt: skip

ZH_LEGAL_FORMS: list[tuple[str, float]] = [
    ("有限公司", 0.62), ("股份有限公司", 0.18), ("有限责任公司", 0.12), ("实业有限公司", 0.08),
]  # fmt: skip

EN_TRADE_NAMES: list[str] = [
    "Northwind", "Bluestone", "Crestline", "Summit", "Pacific", "Evergreen", "Harbor",
    "Ironwood", "Meridian", "Atlas", "Silverline", "Oakridge", "Brightwater", "Redwood",
    "Sterling", "Horizon", "Granite", "Falcon", "Lakeside", "Westbrook", "Kingsley", "Orion",
    "Vantage", "Keystone", "Pinnacle", "Clearwater", "Riverside", "Aurora", "Beacon", "Cobalt",
    "Everest", "Fairview", "Highland", "Juniper", "Liberty", "Mariner", "Nova", "Pioneer",
]  # fmt: skip

# Job titles per buying role.
TITLES_ZH: dict[str, list[str]] = {
    "decision_maker": ["总经理", "副总经理", "采购总监", "运营总监", "董事长"],
    "influencer": ["技术总监", "研发经理", "质量经理", "项目经理", "工艺工程师"],
    "user": ["生产主管", "仓库主管", "车间主任", "设备工程师", "门店经理"],
    "finance": ["财务经理", "应付会计", "财务总监", "出纳"],
    "gatekeeper": ["采购专员", "总经理助理", "行政主管", "采购经理"],
}
TITLES_EN: dict[str, list[str]] = {
    "decision_maker": ["Managing Director", "VP Procurement", "Head of Operations", "CEO"],
    "influencer": ["Engineering Manager", "Quality Manager", "Project Lead", "CTO"],
    "user": ["Plant Supervisor", "Warehouse Lead", "Production Planner", "Store Manager"],
    "finance": ["Finance Manager", "Accounts Payable Specialist", "CFO", "Controller"],
    "gatekeeper": ["Purchasing Agent", "Executive Assistant", "Buyer", "Office Manager"],
}

# Touchpoint comments: an opening per kind, a body whose tone follows the satisfaction score
# and a next step. Fragments are combined at random so that the texts vary.
TOUCHPOINT_OPENINGS: dict[str, dict[str, list[str]]] = {
    "zh": {
        "call": ["电话沟通：", "电话回访：", "与客户通话，"],
        "visit": ["上门拜访：", "现场拜访客户，", "到客户工厂走访，"],
        "meeting": ["会议纪要：", "与客户开会讨论，", "双方项目例会："],
        "email": ["邮件往来：", "收到客户邮件，", "邮件跟进："],
        "delivery": ["交付确认：", "本批货物已送达，", "交付验收："],
        "support": ["售后支持：", "处理客户工单，", "技术支持回访："],
        "qbr": ["季度业务回顾（QBR）：", "QBR会议：", "季度回顾会上，"],
    },
    "en": {
        "call": ["Call: ", "Follow-up call: ", "Phone check-in: "],
        "visit": ["Site visit: ", "Visited the customer on site; ", "Plant visit: "],
        "meeting": ["Meeting notes: ", "Project meeting: ", "Met with the team; "],
        "email": ["Email: ", "Customer wrote in; ", "Email follow-up: "],
        "delivery": ["Delivery: ", "Shipment received; ", "Delivery acceptance: "],
        "support": ["Support: ", "Ticket handled; ", "Support follow-up: "],
        "qbr": ["QBR: ", "Quarterly business review: ", "At the QBR, "],
    },
}

# Optional subject between the opening and the body.
TOUCHPOINT_TOPICS: dict[str, list[str]] = {
    "zh": [
        "关于下季度备货，", "就新产品试用，", "围绕付款计划，", "针对上批交付，",
        "关于年度框架合同，", "就价格调整，", "关于技术升级方案，", "针对售后服务，",
        "关于对账差异，", "就新工厂项目，",
    ],
    "en": [
        "regarding next quarter's stock, ", "about the product trial, ",
        "on the payment schedule, ", "about the last shipment, ",
        "regarding the annual frame contract, ", "on the price review, ",
        "about the upgrade proposal, ", "regarding after-sales service, ",
        "about the statement differences, ", "on the new plant project, ",
    ],
}  # fmt: skip

TOUCHPOINT_BODIES: dict[str, dict[str, list[str]]] = {
    "zh": {
        "negative": [
            "客户对交货延迟非常不满，",
            "客户抱怨产品质量不稳定，退货率偏高，",
            "对方反映售后响应太慢，问题拖了两周还没解决，",
            "客户对价格上涨很有意见，表示在比较其他供应商，",
            "采购经理说对账单和发票对不上，很失望，",
            "客户投诉送货数量短少，包装破损，",
            "客户认为我们的服务越来越差，",
            "对方对上次的技术方案不满意，质疑我们的能力，",
        ],
        "neutral": [
            "客户整体反馈一般，没有特别的问题，",
            "沟通了下季度的需求，客户还在评估，",
            "客户确认了订单细节，态度比较平淡，",
            "对方提出了一些改进建议，整体还可以，",
            "讨论了付款安排，客户表示会按流程处理，",
            "客户对新产品有兴趣，但预算尚未确定，",
            "交付基本按时，个别细节需要改进，",
            "客户说目前合作稳定，暂时没有新的计划，",
        ],
        "positive": [
            "客户对交付速度和质量非常满意，",
            "客户称赞我们的技术支持专业、响应及时，",
            "对方对合作很认可，计划扩大采购量，",
            "客户表示愿意向同行推荐我们，",
            "项目顺利上线，客户高层给予好评，",
            "客户对新方案很感兴趣，希望尽快试用，",
            "客户认为我们的服务比原供应商好很多，",
            "付款及时，沟通顺畅，合作愉快，",
        ],
    },
    "en": {
        "negative": [
            "the customer is very unhappy about late deliveries. ",
            "they complained about unstable quality and a high return rate. ",
            "they said our support is too slow; the issue has been open for two weeks. ",
            "the buyer is upset about the price increase and is talking to competitors. ",
            "finance says the statement does not match the invoices, which frustrates them. ",
            "short shipment and damaged packaging were reported. ",
            "they feel our service has been getting worse. ",
            "they are disappointed with the proposed technical solution. ",
        ],
        "neutral": [
            "feedback was mixed, nothing critical. ",
            "we discussed next quarter's demand; they are still evaluating. ",
            "order details confirmed, the tone was neutral. ",
            "they suggested a few improvements, overall acceptable. ",
            "we went through the payment schedule; they will follow their process. ",
            "interested in the new product line but no budget yet. ",
            "deliveries mostly on time, a few details to improve. ",
            "they describe the relationship as stable, no new plans for now. ",
        ],
        "positive": [
            "the customer is very happy with delivery speed and quality. ",
            "they praised our technical support as fast and professional. ",
            "they value the partnership and plan to increase volumes. ",
            "they said they would gladly recommend us to peers. ",
            "the go-live went smoothly and their management is pleased. ",
            "they are excited about the new proposal and want a trial soon. ",
            "they find our service much better than their previous supplier. ",
            "payments on time, great communication, a pleasure to work with. ",
        ],
    },
}

TOUCHPOINT_NEXT_STEPS: dict[str, dict[str, list[str]]] = {
    "zh": {
        "negative": [
            "需要尽快安排专人跟进整改。",
            "已升级给客户经理和质量部门。",
            "下周上门道歉并提交改进计划。",
            "存在流失风险，需重点关注。",
            "承诺三天内给出解决方案。",
        ],
        "neutral": [
            "下月再次跟进。",
            "会后发送会议纪要。",
            "等待客户内部审批。",
            "下季度再确认需求。",
            "保持常规联系。",
        ],
        "positive": [
            "可以邀请客户做案例分享。",
            "下周提交扩容报价。",
            "计划请客户介绍同行客户。",
            "安排高层互访，深化合作。",
            "准备续约方案。",
        ],
    },
    "en": {
        "negative": [
            "Needs an owner for corrective actions asap.",
            "Escalated to the account manager and quality team.",
            "Will visit next week with an improvement plan.",
            "Churn risk: watch closely.",
            "Promised a fix within three days.",
        ],
        "neutral": [
            "Follow up next month.",
            "Minutes to be sent after the meeting.",
            "Waiting for their internal approval.",
            "Reconfirm demand next quarter.",
            "Keep the regular cadence.",
        ],
        "positive": [
            "Ask them for a case study.",
            "Send an expansion quote next week.",
            "Ask for a referral to peers.",
            "Plan an executive visit to deepen the relationship.",
            "Prepare the renewal proposal.",
        ],
    },
}

# Reasons of credit notes; disputes start with the marker the collections module looks for.
DISPUTE_REASONS: dict[str, list[str]] = {
    "zh": [
        "争议: 到货数量短少，经核实后核减",
        "争议: 部分货物破损，客户拒付该部分",
        "争议: 单价与合同不符，按合同价调整",
        "争议: 质量不合格批次，协商折让",
        "争议: 重复开票，冲销差额",
    ],
    "en": [
        "dispute: short shipment confirmed, amount reduced",
        "dispute: damaged goods, customer refused that part",
        "dispute: unit price differs from contract, adjusted",
        "dispute: failed quality inspection, discount agreed",
        "dispute: duplicate billing, difference credited",
    ],
}
RETURN_REASONS: dict[str, list[str]] = {
    "zh": ["退货: 客户退回多余库存", "价格调整: 年度返利", "退货: 型号错误已退回"],
    "en": [
        "return: excess stock returned",
        "price adjustment: annual rebate",
        "return: wrong model",
    ],
}

DEMO_ROLE_USERS: list[tuple[str, str, str]] = [
    ("admin", "系统管理员", "admin"),
    ("manager", "销售总监 演示", "manager"),
    ("sales", "客户经理 演示", "sales"),
    ("collector", "信用催收 演示", "collector"),
    ("finance", "财务经理 演示", "finance"),
    ("viewer", "只读用户 演示", "viewer"),
]
