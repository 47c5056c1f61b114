"""Synthesis of the demo's people and accounts: users, customers, latent traits and contacts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel.demo import text
from flywheel.demo.seasons import BusinessCalendar, days_to_dates
from flywheel.demo.tables import (
    NULLABLE_TEXT,
    TEXT,
    BoolArray,
    Bools,
    Codes,
    Dates,
    Float64Array,
    Floats,
    Int64Array,
    Ints,
    Stamps,
    Table,
    TextArray,
    Texts,
    digits,
    empty_texts,
    join,
    texts,
)

TIERS = ("key", "growth", "standard")
KEY, GROWTH, STANDARD = 0, 1, 2
TERMS = ("NET30", "NET45", "NET60", "NET90", "EOM30", "EOM60")
TERMS_IS_EOM = np.array([False, False, False, False, True, True])
TERMS_DAYS = np.array([30, 45, 60, 90, 30, 60], dtype=np.int64)
# Customer-level terms by tier: key accounts negotiate longer terms (账期).
_TERMS_BY_TIER = np.array(
    [
        [0.00, 0.00, 0.30, 0.25, 0.20, 0.25],
        [0.30, 0.25, 0.20, 0.00, 0.25, 0.00],
        [0.60, 0.15, 0.05, 0.00, 0.20, 0.00],
    ]
)
_TERMS_ABROAD = np.array([0.5, 0.3, 0.2, 0.0, 0.0, 0.0])

MICROS_PER_DAY = 86_400_000_000
# Office hours in China (09:00–18:00 UTC+8) are 01:00–10:00 UTC.
OFFICE_START_US = 3_600_000_000
OFFICE_SPAN_US = 9 * 3_600_000_000


@dataclass(slots=True)
class Accounts:
    """The customer base: per-customer arrays (index = id - 1) that the ledger needs."""

    tier: Int64Array
    english: BoolArray
    usd: BoolArray
    created_day: Int64Array
    first_month: Int64Array  # first month of the period the customer can buy in
    churn_month: Int64Array  # month of churn, or ``months`` when the customer never churns
    terms: Int64Array  # index into TERMS
    owner_id: Int64Array
    discipline: Float64Array
    satisfaction: Float64Array
    growth: Float64Array
    scale: Float64Array  # the customer's order size relative to its tier
    contact_start: Int64Array  # first contact row of each customer
    contact_count: Int64Array
    columns: Table  # customers without ``status`` (it depends on their orders)
    traits: Table
    users: Table
    contacts: Table

    @property
    def count(self) -> int:
        return len(self.tier)


def office_stamps(rng: np.random.Generator, days: Int64Array) -> np.typing.NDArray[np.datetime64]:
    """A moment during Chinese office hours on each given day, as UTC ``datetime64[us]``."""
    micros = days * MICROS_PER_DAY + OFFICE_START_US + rng.integers(0, OFFICE_SPAN_US, len(days))
    return micros.astype("datetime64[us]")


def pick(
    rng: np.random.Generator, options: list[str], n: int, p: list[float] | None = None
) -> TextArray:
    weights = None if p is None else np.asarray(p, dtype=np.float64) / float(np.sum(p))
    return texts(options)[rng.choice(len(options), n, p=weights)]


def _logistic(x: Float64Array) -> Float64Array:
    return 1.0 / (1.0 + np.exp(-x))


def build_accounts(
    rng: np.random.Generator, cal: BusinessCalendar, customers: int, seed: int
) -> Accounts:
    n = customers
    tier = rng.choice(3, n, p=[0.05, 0.20, 0.75]).astype(np.int64)
    # Most accounts are long-standing; the rest were won during the period.
    existed = rng.random(n) < np.where(tier == KEY, 0.85, 0.7)
    before = cal.period_start - rng.integers(30, 3650, n)
    during = cal.period_start + rng.integers(0, max(cal.days - 20, 1), n)
    created_day = np.where(existed, before, during).astype(np.int64)
    order = np.lexsort((rng.random(n), created_day))
    tier, created_day = tier[order], created_day[order]
    first_month = np.maximum(cal.month_of(np.maximum(created_day, cal.period_start)), 0)

    english = rng.random(n) < 0.20
    abroad = english & (rng.random(n) < 0.55)
    industry = rng.choice(len(text.INDUSTRIES), n, p=_normalised(text.INDUSTRY_WEIGHTS))
    parent = _choose_parents(rng, tier, created_day)
    has_parent = parent >= 0
    # A subsidiary speaks, trades and invoices like its group.
    english = np.where(has_parent, english[parent], english)
    abroad = np.where(has_parent, abroad[parent], abroad)
    industry = np.where(has_parent, industry[parent], industry)
    region = _regions(rng, abroad)
    region = np.where(has_parent & abroad, region[parent], region)
    usd = abroad

    # Latent traits: discipline and satisfaction correlate (happy customers pay on time).
    z = rng.standard_normal((3, n))
    z_sat = 0.35 * z[0] + np.sqrt(1 - 0.35**2) * z[1]
    discipline = _logistic(1.1 + 1.3 * z[0] + np.where(tier == KEY, 0.3, 0.0))
    satisfaction = _logistic(0.8 + 1.1 * z_sat)
    referral = _logistic(-2.6 + 1.0 * z[2] + 2.5 * (satisfaction - 0.65))
    growth = np.clip(rng.normal(0.08 + 0.15 * (satisfaction - 0.65), 0.15, n), -0.4, 0.8)
    tier_churn = np.array([0.35, 0.7, 1.0])[tier]
    churn_hazard = np.clip(0.010 * np.exp(-2.5 * (satisfaction - 0.65)) * tier_churn, 5e-4, 0.08)
    churn_month = first_month + 3 + rng.geometric(churn_hazard) - 1
    churn_month = np.where(churn_month >= cal.months, cal.months, churn_month).astype(np.int64)
    scale = np.exp(rng.normal(0.0, 0.55, n))

    referred_by = _choose_referrers(rng, created_day, referral, cal.period_start)
    owners, users = _users(rng, cal, n)
    owner_id = _assign_owners(rng, tier, owners)
    terms = np.where(
        abroad,
        rng.choice(len(TERMS), n, p=_TERMS_ABROAD),
        _choose_rows(rng, _TERMS_BY_TIER[tier]),
    ).astype(np.int64)

    trade_zh, trade_py = _zh_trade_names(rng, n)
    trade_en = _en_trade_names(rng, n)
    names, domains = _company_names(
        rng, tier, english, abroad, industry, region, parent, trade_zh, trade_py, trade_en
    )
    ids = np.arange(1, n + 1, dtype=np.int64)
    churned_on_month = np.where(
        churn_month < cal.months, cal.year_month[np.minimum(churn_month, cal.months - 1)], -1
    )
    created_stamp = office_stamps(rng, np.minimum(created_day, cal.as_of))
    columns = Table(
        "customers",
        {
            "id": Ints(ids),
            "code": Codes("C", max(6, len(str(n))), ids),
            "name": Texts(names),
            "tier": Texts(texts(TIERS)[tier]),
            "industry": Texts(texts([row[0] for row in text.INDUSTRIES])[industry]),
            "region": Texts(region),
            "owner_id": Ints(owner_id, nullable=True),
            "parent_id": Ints(np.where(has_parent, parent + 1, -1), nullable=True),
            "currency": Texts(np.where(usd, "USD", "CNY").astype(TEXT)),
            "payment_terms": Texts(texts(TERMS)[terms]),
            "referred_by_id": Ints(np.where(referred_by >= 0, referred_by + 1, -1), nullable=True),
            "created_on": Dates(days_to_dates(created_day)),
            "updated_at": Stamps(created_stamp),
        },
    )
    # Ground truth for scoring models: discipline, satisfaction and referral propensity in 0..1,
    # churn_hazard per month, growth per year, churned_on_month as YYYYMM (NULL: still a customer).
    traits = Table(
        "demo_customer_traits",
        {
            "customer_id": Ints(ids),
            "seed": Ints(np.full(n, seed, dtype=np.int64)),
            "payment_discipline": Floats(np.round(discipline, 6)),
            "satisfaction_propensity": Floats(np.round(satisfaction, 6)),
            "churn_hazard": Floats(np.round(churn_hazard, 6)),
            "growth": Floats(np.round(growth, 6)),
            "referral_propensity": Floats(np.round(referral, 6)),
            "language": Texts(np.where(english, "en", "zh").astype(TEXT)),
            "churned_on_month": Ints(churned_on_month.astype(np.int64), nullable=True),
        },
    )
    contact_count = np.where(tier == KEY, rng.integers(3, 9, n), 1 + (rng.random(n) < 0.45))
    contact_count = contact_count.astype(np.int64)
    contact_start = np.concatenate([[0], np.cumsum(contact_count)[:-1]]).astype(np.int64)
    contacts = _contacts(rng, cal, tier, english, region, created_day, domains, contact_count)
    return Accounts(
        tier=tier,
        english=english,
        usd=usd,
        created_day=created_day,
        first_month=first_month.astype(np.int64),
        churn_month=churn_month,
        terms=terms,
        owner_id=owner_id,
        discipline=discipline,
        satisfaction=satisfaction,
        growth=growth,
        scale=scale,
        contact_start=contact_start,
        contact_count=contact_count,
        columns=columns,
        traits=traits,
        users=users,
        contacts=contacts,
    )


def _normalised(weights: list[float]) -> Float64Array:
    array: Float64Array = np.asarray(weights, dtype=np.float64)
    return array / float(array.sum())


def _choose_rows(rng: np.random.Generator, probabilities: Float64Array) -> Int64Array:
    """One categorical draw per row of a probability matrix."""
    cumulative = np.cumsum(probabilities, axis=1)
    draws = rng.random(len(probabilities))[:, None] * cumulative[:, -1:]
    chosen: Int64Array = (draws >= cumulative).sum(axis=1).astype(np.int64)
    return chosen


def _earlier_pick(
    rng: np.random.Generator, created_day: Int64Array, weight: Float64Array, chosen: BoolArray
) -> Int64Array:
    """For each chosen customer, one customer created strictly earlier, drawn by weight."""
    result = np.full(len(created_day), -1, dtype=np.int64)
    cumulative = np.cumsum(weight)
    earlier = np.searchsorted(created_day, created_day, side="left")
    candidates = chosen & (earlier > 0)
    candidates &= cumulative[np.maximum(earlier - 1, 0)] > 0
    rows = np.flatnonzero(candidates)
    limit = cumulative[earlier[rows] - 1]
    picked = np.searchsorted(cumulative, rng.random(len(rows)) * limit, side="right")
    result[rows] = np.minimum(picked, earlier[rows] - 1)
    return result


def _choose_parents(
    rng: np.random.Generator, tier: Int64Array, created_day: Int64Array
) -> Int64Array:
    """Subsidiaries (分公司/子公司) of a few key-account groups."""
    is_group = (tier == KEY) & (rng.random(len(tier)) < 0.25)
    chosen = (tier != KEY) & (rng.random(len(tier)) < 0.02)
    return _earlier_pick(rng, created_day, is_group.astype(np.float64), chosen)


def _choose_referrers(
    rng: np.random.Generator, created_day: Int64Array, referral: Float64Array, period_start: int
) -> Int64Array:
    """Customers won during the period who came through an earlier customer's referral."""
    chosen = (created_day >= period_start) & (rng.random(len(created_day)) < 0.15)
    return _earlier_pick(rng, created_day, referral, chosen)


def _regions(rng: np.random.Generator, abroad: BoolArray) -> TextArray:
    china = pick(
        rng, [r for r, _ in text.CHINA_REGIONS], len(abroad), [w for _, w in text.CHINA_REGIONS]
    )
    world = pick(
        rng,
        [r for r, _ in text.INTERNATIONAL_REGIONS],
        len(abroad),
        [w for _, w in text.INTERNATIONAL_REGIONS],
    )
    return np.where(abroad, world, china)


def _zh_trade_names(rng: np.random.Generator, n: int) -> tuple[TextArray, TextArray]:
    chars = texts([c for c, _ in text.ZH_TRADE_CHARS])
    pinyin = texts([p for _, p in text.ZH_TRADE_CHARS])
    first = rng.integers(0, len(chars), n)
    second = (first + rng.integers(1, len(chars), n)) % len(chars)
    return (
        np.strings.add(chars[first], chars[second]),
        np.strings.add(pinyin[first], pinyin[second]),
    )


def _en_trade_names(rng: np.random.Generator, n: int) -> TextArray:
    words = texts(text.EN_TRADE_NAMES)
    surnames = texts(text.EN_LAST)
    single = words[rng.integers(0, len(words), n)]
    family = surnames[rng.integers(0, len(surnames), n)]
    partners = np.strings.add(
        np.strings.add(family, " & "), surnames[rng.integers(0, len(surnames), n)]
    )
    kind = rng.random(n)
    return np.where(kind < 0.5, single, np.where(kind < 0.8, family, partners))


def _city_of(rng: np.random.Generator, region: TextArray) -> tuple[TextArray, TextArray]:
    city = empty_texts(len(region))
    city_py = empty_texts(len(region))
    for name, cities in text.CHINA_CITIES.items():
        rows = np.flatnonzero(region == name)
        picked = rng.integers(0, len(cities), len(rows))
        city[rows] = texts([c for c, _ in cities])[picked]
        city_py[rows] = texts([p for _, p in cities])[picked]
    for name, places in text.INTERNATIONAL_CITIES.items():
        rows = np.flatnonzero(region == name)
        place = texts(places)[rng.integers(0, len(places), len(rows))]
        city[rows] = place
        city_py[rows] = np.strings.replace(np.strings.lower(place), " ", "")
    return city, city_py


def _company_names(
    rng: np.random.Generator,
    tier: Int64Array,
    english: BoolArray,
    abroad: BoolArray,
    industry: Int64Array,
    region: TextArray,
    parent: Int64Array,
    trade_zh: TextArray,
    trade_py: TextArray,
    trade_en: TextArray,
) -> tuple[TextArray, TextArray]:
    n = len(tier)
    city, city_py = _city_of(rng, region)
    word_pick = rng.random(n)
    zh_word = empty_texts(n)
    en_word = empty_texts(n)
    for index, (_, zh_words, en_words) in enumerate(text.INDUSTRIES):
        rows = np.flatnonzero(industry == index)
        zh_word[rows] = texts(zh_words)[(word_pick[rows] * len(zh_words)).astype(np.int64)]
        en_word[rows] = texts(en_words)[(word_pick[rows] * len(en_words)).astype(np.int64)]
    forms = pick(rng, [f for f, _ in text.ZH_LEGAL_FORMS], n, [w for _, w in text.ZH_LEGAL_FORMS])
    group = tier == KEY
    zh_name = np.strings.add(np.strings.add(np.strings.add(city, trade_zh), zh_word), forms)
    zh_group = np.strings.add(
        trade_zh, np.where(rng.random(n) < 0.5, "集团有限公司", "集团股份有限公司")
    )
    zh_name = np.where(group & (rng.random(n) < 0.5), zh_group, zh_name)

    suffix = empty_texts(n)
    for key, options in text.EN_SUFFIX_BY_REGION.items():
        rows = (
            np.flatnonzero(abroad & (region == key)) if key != "china" else np.flatnonzero(~abroad)
        )
        suffix[rows] = pick(rng, options, len(rows))
    en_name = np.strings.add(np.strings.add(np.strings.add(trade_en, " "), en_word), " ")
    en_name = np.strings.add(en_name, suffix)

    name = np.where(english, en_name, zh_name)
    # A subsidiary carries its group's trade name and its own city.
    rows = np.flatnonzero(parent >= 0)
    if len(rows):
        group = parent[rows]
        # 分公司 (branch): "<group> 有限公司<city>分公司"; 子公司: "<group>（<city>）有限公司".
        zh_branch = join(trade_zh[group], zh_word[group], "有限公司", city[rows], "分公司")
        zh_subsidiary = join(trade_zh[group], zh_word[group], "（", city[rows], "）有限公司")
        zh_sub = np.where(rng.random(len(rows)) < 0.6, zh_branch, zh_subsidiary)
        en_sub = join(trade_en[group], " ", en_word[group], " (", city[rows], ") Ltd")
        name[rows] = np.where(english[rows], en_sub, zh_sub)
    name = _unique_names(name, english)

    en_slug = np.strings.replace(
        np.strings.replace(np.strings.lower(trade_en), " & ", "-"), " ", ""
    )
    en_slug = np.strings.replace(np.strings.replace(en_slug, "ü", "ue"), "ö", "oe")
    slug = np.where(english, en_slug, trade_py)
    # The first company with a trade name gets the short domain, later ones add their city.
    _, first_index = np.unique(slug, return_index=True)
    later = np.ones(n, dtype=bool)
    later[first_index] = False
    city_slug = np.strings.replace(np.strings.lower(city_py), " ", "")
    slug = np.where(later, join(slug, "-", city_slug), slug)
    tld_zh = pick(rng, [".com.cn", ".cn", ".com"], n, [0.5, 0.2, 0.3])
    tld_en = np.where(abroad, pick(rng, [".com", ".net", ".co"], n, [0.8, 0.1, 0.1]), ".com.cn")
    domain = join(slug, np.where(english, tld_en, tld_zh))
    if len(rows):
        domain[rows] = domain[parent[rows]]
    return name, domain


def _unique_names(name: TextArray, english: BoolArray) -> TextArray:
    """Tell namesakes apart with a number: ``…有限公司（2）``, ``… Ltd (2)``."""
    _, inverse = np.unique(name, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    sorted_groups = inverse[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    occurrence = np.empty(len(name), dtype=np.int64)
    occurrence[order] = np.arange(len(order)) - group_start + 1
    rows = np.flatnonzero(occurrence > 1)
    if len(rows) == 0:
        return name
    result = name.copy()
    number = digits(occurrence[rows], 1)
    zh = join(result[rows], "（", number, "）")
    en = join(result[rows], " (", number, ")")
    result[rows] = np.where(english[rows], en, zh)
    return result


def _users(
    rng: np.random.Generator, cal: BusinessCalendar, customers: int
) -> tuple[Int64Array, Table]:
    """Demo users (one per role) and the sales reps who own the accounts."""
    reps = max(5, round(customers / 400))
    role_users = text.DEMO_ROLE_USERS
    n = len(role_users) + reps
    rep_names, rep_english = _person_names(rng, reps, english_share=0.1)
    usernames = [u for u, _, _ in role_users] + [f"sales{i:03d}" for i in range(1, reps + 1)]
    display = [d for _, d, _ in role_users] + rep_names.tolist()
    roles = [r for _, _, r in role_users] + ["sales"] * reps
    language = ["zh"] * len(role_users) + np.where(rep_english, "en", "zh").tolist()
    ids = np.arange(1, n + 1, dtype=np.int64)
    table = Table(
        "users",
        {
            "id": Ints(ids),
            "username": Texts(texts(usernames)),
            "display_name": Texts(texts(display)),
            "email": Texts(texts([f"{u}@flywheel-demo.cn" for u in usernames])),
            "role": Texts(texts(roles)),
            "language": Texts(texts(language)),
            "is_active": Bools(np.ones(n, dtype=bool)),
            "password_hash": Texts(np.full(n, None, dtype=NULLABLE_TEXT)),
            "created_at": Stamps(office_stamps(rng, np.full(n, cal.period_start - 30))),
        },
    )
    sales_demo_user = np.array([3], dtype=np.int64)  # the ``sales`` login owns accounts too
    owners = np.concatenate([sales_demo_user, ids[len(role_users) :]])
    return owners, table


def _assign_owners(rng: np.random.Generator, tier: Int64Array, owners: Int64Array) -> Int64Array:
    # The first fifth of the reps are key-account managers (大客户经理).
    kam = max(1, len(owners) // 5)
    key_owner = owners[rng.integers(0, kam, len(tier))]
    other_owner = owners[rng.integers(0, len(owners), len(tier))]
    return np.where(tier == KEY, key_owner, other_owner).astype(np.int64)


def _person_names(
    rng: np.random.Generator,
    n: int,
    *,
    english_share: float = 0.0,
    english: BoolArray | None = None,
) -> tuple[TextArray, BoolArray]:
    names, _, _, is_english = _person_parts(rng, n, english_share=english_share, english=english)
    return names, is_english


def _person_parts(
    rng: np.random.Generator,
    n: int,
    *,
    english_share: float = 0.0,
    english: BoolArray | None = None,
) -> tuple[TextArray, TextArray, TextArray, BoolArray]:
    """Full names plus the two halves of a mail address (romanised for Chinese names)."""
    is_english = rng.random(n) < english_share if english is None else english
    surname_weights = _normalised([w for _, _, w in text.ZH_SURNAMES])
    surname_index = rng.choice(len(text.ZH_SURNAMES), n, p=surname_weights)
    surnames = texts([s for s, _, _ in text.ZH_SURNAMES])[surname_index]
    surname_py = texts([p for _, p, _ in text.ZH_SURNAMES])[surname_index]
    given_chars = texts([c for c, _ in text.ZH_GIVEN])
    given_py = texts([p for _, p in text.ZH_GIVEN])
    first = rng.integers(0, len(given_chars), n)
    second = rng.integers(0, len(given_chars), n)
    two = rng.random(n) < 0.7
    given = np.where(
        two, np.strings.add(given_chars[first], given_chars[second]), given_chars[first]
    )
    given_roman = np.where(two, np.strings.add(given_py[first], given_py[second]), given_py[first])
    zh_name = np.strings.add(surnames, given)

    en_first = texts(text.EN_FIRST)[rng.integers(0, len(text.EN_FIRST), n)]
    en_last = texts(text.EN_LAST)[rng.integers(0, len(text.EN_LAST), n)]
    en_name = np.strings.add(np.strings.add(en_first, " "), en_last)
    name = np.where(is_english, en_name, zh_name)
    local_first = np.where(is_english, np.strings.lower(en_first), given_roman)
    local_last = np.where(is_english, np.strings.lower(en_last), surname_py)
    local_last = np.strings.replace(np.strings.replace(local_last, "ü", "ue"), "ö", "oe")
    return name, local_first, local_last, is_english


_ROLES = ("decision_maker", "influencer", "user", "finance", "gatekeeper")
_COUNTRY_CODE: dict[str, str] = {
    "东南亚": "+65",
    "日韩": "+81",
    "欧洲": "+49",
    "北美": "+1",
    "中东": "+971",
}


def _contacts(
    rng: np.random.Generator,
    cal: BusinessCalendar,
    tier: Int64Array,
    english: BoolArray,
    region: TextArray,
    created_day: Int64Array,
    domains: TextArray,
    contact_count: Int64Array,
) -> Table:
    customer = np.repeat(np.arange(len(tier), dtype=np.int64), contact_count)
    n = len(customer)
    start = np.concatenate([[0], np.cumsum(contact_count)[:-1]])
    seq = np.arange(n, dtype=np.int64) - start[customer]
    key = tier[customer] == KEY
    roll = rng.random(n)
    # Key accounts: a buying centre; small accounts: the boss (or a user) and maybe finance.
    key_role = np.where(
        seq == 0,
        0,
        np.where(
            seq == 1,
            3,
            np.where(seq == 2, 1, rng.choice([1, 2, 4, 3], n, p=[0.35, 0.3, 0.25, 0.1])),
        ),
    )
    small_role = np.where(seq == 0, np.where(roll < 0.65, 0, 2), np.where(roll < 0.7, 3, 4))
    role = np.where(key, key_role, small_role).astype(np.int64)

    contact_english = english[customer]
    names, local_first, local_last, _ = _person_parts(rng, n, english=contact_english)
    separator = np.where(contact_english | (rng.random(n) < 0.4), ".", "")
    local = np.strings.add(np.strings.add(local_first, separator), local_last)
    email = np.strings.add(np.strings.add(local, "@"), domains[customer])
    email = _unique_within_customer(customer, email)

    titles = empty_texts(n)
    title_pick = rng.random(n)
    for role_index, role_name in enumerate(_ROLES):
        for is_en, table in ((False, text.TITLES_ZH), (True, text.TITLES_EN)):
            rows = np.flatnonzero((role == role_index) & (contact_english == is_en))
            options = texts(table[role_name])
            titles[rows] = options[(title_pick[rows] * len(options)).astype(np.int64)]

    prefix = texts(["+86 13", "+86 15", "+86 18", "+86 19"])[rng.integers(0, 4, n)]
    phone = join(
        prefix, digits(rng.integers(0, 10, n), 1), " ", digits(rng.integers(0, 10_000, n), 4),
        " ", digits(rng.integers(0, 10_000, n), 4),
    )  # fmt: skip
    contact_region = region[customer]
    for place, code in _COUNTRY_CODE.items():
        rows = np.flatnonzero(contact_region == place)
        phone[rows] = join(
            f"{code} ", digits(rng.integers(100, 1000, len(rows)), 3), " ",
            digits(rng.integers(0, 10_000, len(rows)), 4),
        )  # fmt: skip

    created = np.minimum(created_day[customer] + rng.integers(0, 60, n), cal.as_of)
    return Table(
        "contacts",
        {
            "id": Ints(np.arange(1, n + 1, dtype=np.int64)),
            "customer_id": Ints(customer + 1),
            "name": Texts(names),
            "title": Texts(titles),
            "buying_role": Texts(texts(_ROLES)[role]),
            "email": Texts(email),
            "phone": Texts(phone),
            "language": Texts(np.where(contact_english, "en", "zh").astype(TEXT)),
            "created_at": Stamps(office_stamps(rng, created)),
        },
    )


def _unique_within_customer(customer: Int64Array, email: TextArray) -> TextArray:
    """Two namesakes at one company get ``wang.wei2@…`` like a real mail server would do."""
    keyed = join(digits(customer, 1), "|", email)
    _, first_index, inverse = np.unique(keyed, return_index=True, return_inverse=True)
    repeat = first_index[inverse] != np.arange(len(email))
    if not repeat.any():
        return email
    rows = np.flatnonzero(repeat)
    result = email.copy()
    at = np.strings.find(result[rows], "@")
    head = np.strings.slice(result[rows], 0, at)
    tail = np.strings.slice(result[rows], at, None)
    result[rows] = np.strings.add(np.strings.add(head, digits(rows % 90 + 2, 1)), tail)
    return result


DEMO_PASSWORD = "flywheel-demo"


def with_role_passwords(users: Table, password_hash: str) -> Table:
    """The users table with one password hash given to the one-per-role demo users.

    The hash (not the password) comes in, so the generator stays pure and deterministic and
    the slow argon2 hash is computed once for all of them. Users who already exist are
    dropped by the writer before this column is written, so their passwords are never touched.
    """
    role_usernames = {username for username, _, _ in text.DEMO_ROLE_USERS}
    usernames = users.columns["username"]
    hashes = users.columns["password_hash"]
    assert isinstance(usernames, Texts)
    assert isinstance(hashes, Texts)
    values = hashes.values.copy()
    for row, username in enumerate(usernames.values.tolist()):
        if username in role_usernames:
            values[row] = password_hash
    return Table(users.name, {**users.columns, "password_hash": Texts(values)})
