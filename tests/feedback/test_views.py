"""The feedback pages: the inbox (filters, highlighted and escaped verbatims, the sales rep's
scope, CSV and XLSX export), the experience dashboard and the 360's feedback panel, in English
and in Chinese."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from flywheel.models.feedback import FeedbackLoop
from tests.feedback.metrics_world import MetricsWorld, add_texts, build
from tests.web import conftest as web_fixtures
from tests.web.pages import make_person, sign_in

# The web tests' app and client, bound to this test's session.
app = web_fixtures.app
client = web_fixtures.client

PERIOD = "from=2026-01-01&to=2026-03-31"


def rows_of(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-source="(\w+)" data-id="(\d+)">', html)


def world_with_texts(session: Session, language: str = "en") -> MetricsWorld:
    world = build(session, language=language)
    add_texts(session, world)
    return world


def test_the_inbox_highlights_topic_words_and_escapes_the_rest(
    client: TestClient, session: Session
) -> None:
    world = world_with_texts(session)
    sign_in(client, world.manager.username)

    page = client.get("/feedback?" + PERIOD)

    assert page.status_code == 200
    html = page.text
    assert len(rows_of(html)) == 17  # every answer of the period, newest first
    assert rows_of(html)[0] == ("response", str(world.responses["c_csat3"].id))
    assert '<mark data-topic="delivery" title="Delivery">交货太慢</mark>' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 很失望" in html
    # Two topics over the same words are one mark naming both.
    assert '<mark data-topic="delivery packaging" title="Delivery, Packaging">包装</mark>' in html
    loop = session.query(FeedbackLoop).filter_by(response_id=world.responses["a_dm"].id).one()
    assert f'href="/feedback/loops/{loop.id}"' in html
    assert 'data-urgency="churn_threat">Churn threat<' in html
    assert re.search(r'data-sentiment="negative"[^>]*>Negative<', html)
    assert 'class="fb-nav"' in html


def test_the_inbox_in_chinese(client: TestClient, session: Session) -> None:
    world = world_with_texts(session, language="zh")
    sign_in(client, world.manager.username)

    html = client.get("/feedback?" + PERIOD).text

    assert "反馈收件箱" in html
    assert '<mark data-topic="delivery" title="交付">交货太慢</mark>' in html
    assert "贬损者" in html  # the detractor band
    assert "&lt;script&gt;" in html


def test_the_inbox_filters(client: TestClient, session: Session) -> None:
    world = world_with_texts(session)
    sign_in(client, world.manager.username)

    def ids(query: str) -> set[int]:
        page = client.get("/feedback?" + PERIOD + "&" + query)
        assert page.status_code == 200, page.text
        return {int(i) for _s, i in rows_of(page.text)}

    r = {key: response.id for key, response in world.responses.items()}
    assert ids("topic=delivery") == {r["a_dm"], r["a_csat2"]}
    assert ids("band=bad") == {r["a_dm"], r["a_user2"], r["b_dm"], r["a_csat2"]}
    assert ids("band=promoter") == {
        r["a_dm_old"],
        r["a_user1"],
        r["c_dm"],
        r["c_user"],
        r["c_gate"],
    }
    assert ids("sentiment=negative&urgency=churn_threat") == {r["a_dm"]}
    assert ids("urgency=any") == {r["a_dm"]}
    assert ids("kind=ces") == {r["a_ces6"], r["a_ces4"], r["b_ces7"]}
    assert ids("account=beta") == {r["b_dm"], r["b_inf"], r["b_ces7"]}
    assert ids(f"owner={world.rival.username}") == {
        r["c_dm"],
        r["c_user"],
        r["c_gate"],
        r["c_csat3"],
    }
    assert ids("source=touchpoint") == set()
    assert len(ids("")) == 17
    assert len(ids("from=2026-03-01")) == 4


def test_a_parameter_that_cannot_be_read_is_named_and_ignored(
    client: TestClient, session: Session
) -> None:
    world = world_with_texts(session)
    sign_in(client, world.manager.username)

    page = client.get("/feedback?from=someday&band=great&" + "to=2026-03-31")

    assert page.status_code == 200
    assert "From is not a date; it was ignored." in page.text
    assert "great is not a choice here; it was ignored." in page.text
    assert len(rows_of(page.text)) == 18  # everything up to March, the December answer too


def test_a_sales_rep_sees_only_his_accounts_feedback(client: TestClient, session: Session) -> None:
    world = world_with_texts(session)
    sign_in(client, world.rep.username)

    html = client.get("/feedback?" + PERIOD).text

    assert len(rows_of(html)) == 13
    assert world.c.code not in html
    assert 'name="owner"' not in html  # no owner filter for a rep
    # Naming the other rep as owner shows nothing rather than his book.
    assert rows_of(client.get(f"/feedback?owner={world.rival.username}").text) == []


def test_the_export_is_the_filtered_list_in_csv_and_xlsx(
    client: TestClient, session: Session
) -> None:
    world = world_with_texts(session)
    sign_in(client, world.rep.username)

    answer = client.get("/feedback/export.csv?" + PERIOD + "&band=bad")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Time (UTC)",
        "Source",
        "Account code",
        "Account",
        "Owner",
        "Contact",
        "Survey",
        "Score",
        "Band",
        "Sentiment",
        "Sentiment score",
        "Topics",
        "Urgency",
        "Text",
        "Follow-up",
    ]
    assert [(r[2], r[7], r[8]) for r in rows[1:]] == [
        (world.a.code, "6", "Detractor"),
        (world.b.code, "3", "Detractor"),
        (world.a.code, "2", "Dissatisfied"),
        (world.a.code, "6", "Detractor"),
    ]
    first = rows[1]
    assert first[0] == "2026-02-20T09:00:00"
    assert (first[5], first[6], first[9], first[11], first[12]) == (
        "张总",
        "NPS",
        "Negative",
        "Delivery",
        "Churn threat",
    )
    assert first[13] == "交货太慢，<script>alert(1)</script> 很失望"
    assert first[14].endswith(" Open")

    workbook = client.get("/feedback/export.xlsx?" + PERIOD + "&band=bad")
    assert workbook.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Time (UTC)"
    assert [(v[2], v[7]) for v in values[1:]] == [
        (world.a.code, 6),
        (world.b.code, 3),
        (world.a.code, 2),
        (world.a.code, 6),
    ]
    assert values[1][0].isoformat() == "2026-02-20T09:00:00"


def test_the_export_speaks_the_users_language(client: TestClient, session: Session) -> None:
    world = world_with_texts(session, language="zh")
    sign_in(client, world.manager.username)

    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/feedback/export.csv?" + PERIOD + "&topic=billing").content.decode(
                    "utf-8-sig"
                )
            )
        )
    )

    assert rows[0][0] == "时间（UTC）"
    assert rows[1][8] == "贬损者"
    assert rows[1][11] == "发票"


def test_the_experience_dashboard(client: TestClient, session: Session) -> None:
    world = world_with_texts(session)
    sign_in(client, world.manager.username)

    page = client.get("/feedback/experience?" + PERIOD + "&by=region")

    assert page.status_code == 200, page.text
    html = page.text
    assert re.search(r'data-testid="nps">\s*20\.0\s*<', html)
    assert re.search(r'data-testid="csat">\s*50\.0%\s*<', html)
    assert re.search(r'data-testid="ces">\s*5\.67\s*<', html)
    assert 'data-month="2026-02"' in html
    assert 'data-group="华南"' in html
    assert "Account NPS = 100 × Σ wᵢ·(promoterᵢ − detractorᵢ) ÷ Σ wᵢ" in html
    assert 'data-topic="delivery"' in html
    assert 'data-stage="delivery"' in html
    assert f'data-account="{world.c.code}"' in html
    assert 'id="experience-data"' in html
    assert "echarts" in html
    assert "small sample" in html


def test_the_experience_dashboard_in_chinese_for_a_rep(
    client: TestClient, session: Session
) -> None:
    world = world_with_texts(session, language="zh")
    sign_in(client, world.rep.username)

    html = client.get("/feedback/experience?" + PERIOD).text

    assert "客户体验" in html
    assert re.search(r'data-testid="nps">\s*-14\.3\s*<', html)
    assert f'data-account="{world.c.code}"' not in html
    assert f'data-group="{world.rep.username}"' in html


def test_the_experience_dashboard_names_bad_parameters(
    client: TestClient, session: Session
) -> None:
    world = world_with_texts(session)
    sign_in(client, world.manager.username)

    page = client.get("/feedback/experience?from=2026-05-01&to=2026-01-01&tier=gold&by=colour")

    assert page.status_code == 200
    assert "The period starts after it ends; the default period is shown." in page.text
    assert "gold is not a choice here; it was ignored." in page.text


def test_the_360_shows_the_feedback_panel(client: TestClient, session: Session) -> None:
    world = world_with_texts(session)
    sign_in(client, world.rep.username)

    html = client.get(f"/customers/{world.a.code}?as_of=2026-03-31").text

    assert 'data-panel="feedback.experience"' in html
    assert re.search(r'data-testid="account-nps">\s*-42\.9\s*<', html)
    assert "4 stakeholders, weight 7.0" in html
    assert 'data-testid="stakeholder-answers"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'data-testid="open-loops"' in html
    assert 'data-kpi="last-sentiment"' in html
    link = f'href="/feedback?customer={world.a.code}"'
    assert link in html
    inbox = client.get(f"/feedback?customer={world.a.code}&" + PERIOD).text
    assert len(rows_of(inbox)) == 10  # M-A's answers, not those of an account like M-A1x
    assert 'data-testid="inbox-customer"' in inbox


def test_an_account_without_feedback_has_no_panel(client: TestClient, session: Session) -> None:
    from tests.factories import make_customer

    make_person(session, "m.viewer", role=Role.VIEWER)
    quiet = make_customer(session, code="M-QUIET", name="Quiet 安静")
    sign_in(client, "m.viewer")

    html = client.get(f"/customers/{quiet.code}").text

    assert 'data-panel="feedback.experience"' not in html
