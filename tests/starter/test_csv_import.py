"""CSV import: good rows become EnrollLead inputs, every bad row is named by line and reason."""

from importlib import resources

import pytest

from starter.csv_import import CsvFormatError, parse_leads, read_leads

HEADER = "id,email,first_name,owner,segment,mode,attr.challenge,context.trigger,context.discovery_notes"


def parse(*rows: str, header: str = HEADER, speedup: float | None = None):
    return parse_leads([f"{line}\n" for line in (header, *rows)], speedup=speedup)


def test_a_good_row_fills_lead_attributes_and_context() -> None:
    parsed = parse("crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,manual dispatch,proposal_sent,3 people")

    assert parsed.bad_rows == []
    (row,) = parsed.leads
    assert row.line == 2
    enroll = row.enroll
    assert enroll.lead.id == "crm-1"
    assert enroll.lead.owner == "rep-7"
    assert enroll.mode == "follow_up"
    assert enroll.lead.attributes == {"challenge": "manual dispatch"}
    assert enroll.context == {"trigger": "proposal_sent", "discovery_notes": "3 people"}


def test_empty_cells_take_the_model_defaults() -> None:
    parsed = parse("crm-1,dana@acme.example,,,,nurture,,,")

    enroll = parsed.leads[0].enroll
    assert enroll.lead.first_name is None
    assert enroll.lead.attributes == {}
    assert enroll.context == {}
    assert enroll.follow_up_cadence == "follow-up"


def test_bad_rows_are_reported_by_line_with_the_column_and_reason_while_good_rows_stay() -> None:
    parsed = parse(
        "crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,,,",
        "crm-2,not-an-email,Li,rep-2,health,nurture,,,",
        "crm-3,amara@brightpath.example,Amara,rep-1,legal,someday,,,",
        "crm 4,jonas@fjord.example,Jonas,rep-2,retail,nurture,,,",
    )

    assert [row.enroll.lead.id for row in parsed.leads] == ["crm-1"]
    reasons = {bad.line: bad.reason for bad in parsed.bad_rows}
    assert set(reasons) == {3, 4, 5}
    assert reasons[3].startswith("email: ")
    assert reasons[4].startswith("mode: ") and "'follow_up' or 'nurture'" in reasons[4]
    assert reasons[5].startswith("id: ") and "letters, digits" in reasons[5]
    assert not any("Value error" in reason for reason in reasons.values())


def test_a_duplicate_id_in_one_file_is_a_bad_row_pointing_at_the_first() -> None:
    parsed = parse(
        "crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,,,",
        "crm-1,dana.reyes@acme.example,Dana,rep-7,logistics,nurture,,,",
    )

    assert [row.line for row in parsed.leads] == [2]
    (bad,) = parsed.bad_rows
    assert bad.line == 3
    assert bad.reason == "duplicate id 'crm-1' (first on line 2)"


def test_an_error_in_an_attr_or_context_column_names_that_column() -> None:
    parsed = parse(
        "crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,ok,ok,ok",
        header="id,email,first_name,owner,segment,mode,attr.challenge,context.trigger,timezone",
    )
    assert parsed.bad_rows[0].reason.startswith("timezone: unknown time zone 'ok'")


def test_line_numbers_follow_the_file_across_blank_lines_and_multiline_cells() -> None:
    parsed = parse(
        'crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,,,"first line',
        'second line"',
        "",
        "crm-2,bad,Li,rep-2,health,nurture,,,",
    )

    assert parsed.leads[0].enroll.context["discovery_notes"] == "first line\nsecond line"
    assert [bad.line for bad in parsed.bad_rows] == [5]


def test_a_row_with_the_wrong_number_of_fields_is_bad() -> None:
    parsed = parse("crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,,,,extra")

    assert parsed.bad_rows[0].reason == "has 10 fields but the header has 9"


def test_speedup_applies_to_every_lead() -> None:
    parsed = parse("crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,,,", speedup=86_400)

    assert parsed.leads[0].enroll.speedup == 86_400


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,emial,mode", "unknown column 'emial'"),
        ("id,email,mode,email", "column 'email' appears more than once"),
        ("id,email,first_name", "required column 'mode' is missing"),
        ("id,email,mode,attr.", "unknown column 'attr.'"),
    ],
)
def test_a_bad_header_rejects_the_whole_file(header: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        parse_leads([header + "\n", "crm-1,dana@acme.example,follow_up\n"])


def test_an_empty_file_is_rejected() -> None:
    with pytest.raises(CsvFormatError, match="empty"):
        parse_leads([])


def test_the_bundled_example_leads_parse_cleanly() -> None:
    with resources.as_file(resources.files("starter") / "examples" / "leads.csv") as path:
        parsed = read_leads(path)

    assert parsed.bad_rows == []
    assert len(parsed.leads) == 8
    assert {row.enroll.mode for row in parsed.leads} == {"follow_up", "nurture"}
    assert {row.enroll.lead.owner for row in parsed.leads} == {"rep-1", "rep-2"}
    assert all(row.enroll.lead.email.endswith(".example") for row in parsed.leads)
    assert all("trigger" in row.enroll.context for row in parsed.leads)


def test_an_unterminated_quote_reports_every_row_it_swallowed() -> None:
    parsed = parse(
        'crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,,,"first line',
        "crm-2,li@northwind.example,Li,rep-2,health,nurture,,,",
        'crm-3,amara@brightpath.example,Amara,rep-1,legal,nurture,,,note"',
        "crm-4,jonas@fjord.example,Jonas,rep-2,retail,nurture,,,",
    )

    assert [lead.enroll.lead.id for lead in parsed.leads] == ["crm-4"]
    assert [bad.line for bad in parsed.bad_rows] == [2, 3, 4]
    assert "a quote opened on line 2 is closed only on line 4" in parsed.bad_rows[0].reason
    assert all("quote on line 2" in bad.reason for bad in parsed.bad_rows[1:])


def test_a_quote_left_open_to_the_end_of_the_file_is_reported_too() -> None:
    parsed = parse(
        'crm-1,dana@acme.example,Dana,rep-7,logistics,follow_up,,,"first line',
        "crm-2,li@northwind.example,Li,rep-2,health,nurture,,,",
    )
    assert parsed.leads == [] and [bad.line for bad in parsed.bad_rows] == [2, 3]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("id,email,mode\ncrm-1,zoë@acme.example,nurture\n".encode("latin-1"), "line 2: not UTF-8 text (byte 0xEB"),
        ("id,email,mode\ncrm-1,dana@acme.example,nurture\n".encode("utf-16"), "the file is UTF-16 text"),
        (b"PK\x03\x04\x00\x00binary", "the file is not CSV text"),
    ],
)
def test_a_file_that_is_not_utf8_text_is_one_clear_error(tmp_path, data: bytes, message: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    with pytest.raises(CsvFormatError, match="save it as UTF-8") as error:
        read_leads(path)
    assert message in str(error.value)


def test_a_utf8_file_with_a_byte_order_mark_reads_its_first_column(tmp_path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes("id,email,mode\ncrm-1,zoe@acme.example,nurture\n".encode("utf-8-sig"))
    assert [lead.enroll.lead.id for lead in read_leads(path).leads] == ["crm-1"]
