"""The first ten minutes, in a real browser: Home Assistant's UI in headless Chromium.

A real ``hass`` runs from a fresh configuration as scripts/develop makes it (its configuration.yaml,
the Smart meter dashboard and the seed's three weeks of history), with the simulator feeding the
seeded meter and a second simulator standing in for the meter a user adds through the UI.
Chromium (Debian's; browsers cannot be downloaded here) is driven through Playwright, whose
locators pierce the open shadow roots Home Assistant's UI is made of and wait for what they look
for. Every step leaves a screenshot in ``screenshots/`` (or ``$SMARTMETER_SCREENSHOTS``);
``scripts/screenshots`` copies the README's from there into ``docs/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request
from zoneinfo import ZoneInfo

from playwright.sync_api import (
    Locator,
    Page,
    TimeoutError as PlaywrightTimeoutError,
    ViewportSize,
    expect,
    sync_playwright,
)
import pytest

from enedis_simulator import PRM
from scripts import develop_seed

from .hass_process import (
    REPO,
    START_SECONDS,
    free_port,
    prepare_config,
    serve,
    start_home_assistant,
    start_simulator,
    stop,
)
from .meters import TELEGRAMS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(480)]

SCREENSHOTS = Path(os.environ.get("SMARTMETER_SCREENSHOTS", REPO / "screenshots"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background networking Chromium tries to reach Google's services, which a closed
# network refuses; the rest keeps a headless run lean.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1400, "height": 1000}
# A user in the Netherlands, as the configuration is: the frontend takes "today" in the browser's
# time zone, and one in UTC would show the statistics' days an hour off the energy page's.
LOCALE = "en-GB"
TIME_ZONE = "Europe/Amsterdam"
PHONE: ViewportSize = {"width": 390, "height": 844}
OWNER = {"name": "Ada Lovelace", "username": "ada", "password": "analytical-engine-1843"}
# How long the UI may take to show what a step waits for, on a machine busy with other work.
UI_MS = 60_000
# Home Assistant's log lines that a failure's report shows.
LOGGED = re.compile(r"smartmeter| (WARNING|ERROR) ")


@dataclass
class HomeAssistant:
    """A running Home Assistant and what the test needs to know of it."""

    url: str
    config: Path
    log: Path
    added_meter_port: int

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        """Return the status and JSON body of a GET request."""
        request = urllib.request.Request(f"{self.url}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def get_once_ok(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        """Ask until the answer is 200, for as long as the UI may take; return the last."""
        deadline = time.monotonic() + UI_MS / 1000
        while (answer := self.get(path, headers))[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.25)
        return answer


@pytest.fixture
def home_assistant(tmp_path: Path, socket_enabled: None) -> Iterator[HomeAssistant]:
    """Home Assistant as scripts/develop starts it, on free ports; stopped however the test ends."""
    config = tmp_path / "config"
    port = prepare_config(config, (REPO / "config" / "configuration.yaml").read_text())
    shutil.copy(REPO / "config" / "smart_meter_dashboard.yaml", config)
    shutil.copy(REPO / "config" / "linky_dashboard.yaml", config)
    processes: list[subprocess.Popen[Any]] = []
    try:
        seeded_port = free_port()
        # The seeded Solar-Log plant's portal, its plant installed 30 days ago.
        installed = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
        portal, portal_port = serve("solarlog_simulator", "--installed", installed)
        processes.append(portal)
        enedis_port = free_port()
        processes.append(
            subprocess.Popen([sys.executable, "-m", "enedis_simulator", str(enedis_port)], cwd=REPO)
        )
        develop_seed.main(config, seeded_port, TELEGRAMS / "v5.txt", portal_port, enedis_port)
        start = (config / "simulator_start").read_text()
        # The seeded meter's simulator listens on the port the seed wrote (the last --port wins).
        seeded, _ = start_simulator("v5.txt", "--port", str(seeded_port), "--start", start)
        processes.append(seeded)
        added, added_port = start_simulator("fluvius_v171.txt")
        processes.append(added)
        log = tmp_path / "home-assistant.log"
        processes.append(start_home_assistant(config, log))
        url = f"http://127.0.0.1:{port}"
        yield HomeAssistant(url, config, log, added_port)
    finally:
        for process in reversed(processes):
            stop(process)


class Screens:
    """Screenshots of the steps, numbered in order, of one viewport."""

    def __init__(self, width: str) -> None:
        self.folder = SCREENSHOTS / width
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.taken = 0

    def take(self, page: Page, name: str) -> None:
        self.taken += 1
        page.screenshot(path=self.folder / f"{self.taken:02d}-{name}.png")


# The text an element shows, its shadow roots' included: the UI is web components throughout.
COMPOSED_TEXT = """
element => {
    const text = node => node.nodeType === Node.TEXT_NODE ? node.data
        : [...(node.shadowRoot?.childNodes ?? []), ...node.childNodes].map(text).join(" ");
    return text(element).replace(/\\s+/g, " ").trim();
}
"""


def shown(locator: Locator, pattern: str, *, other_than: str = "") -> str:
    """Wait until ``locator``'s element shows text matching ``pattern`` (and not ``other_than``).

    Playwright's locators find elements through open shadow roots; the text an element shows
    lies in them too, where Playwright's text assertions do not look.
    """
    element = locator.element_handle()
    try:
        return str(
            locator.page.wait_for_function(
                f"""([element, pattern, before]) => {{
                    const text = ({COMPOSED_TEXT})(element);
                    return new RegExp(pattern).test(text) && text !== before && text;
                }}""",
                arg=[element, pattern, other_than],
            ).json_value()
        )
    except PlaywrightTimeoutError:
        text = element.evaluate(COMPOSED_TEXT)
        raise AssertionError(f"{locator} shows {text!r}, not {pattern!r}") from None


def _no_translation_error(page: Page) -> None:
    assert "Translation error" not in page.locator("body").evaluate(COMPOSED_TEXT)


def test_first_ten_minutes(home_assistant: HomeAssistant) -> None:
    """Onboarding, adding the meter, its device, options, API, contract, export, dashboards."""
    expect.set_options(timeout=UI_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            desktop = browser.new_context(viewport=DESKTOP, locale=LOCALE, timezone_id=TIME_ZONE)
            desktop.set_default_timeout(UI_MS)
            page = desktop.new_page()
            screens = Screens("desktop")
            _onboard(page, home_assistant, screens)
            _add_meter(page, home_assistant, screens)
            _device_page(page, screens)
            key = _turn_the_api_on(page, screens)
            # The options take effect with the entry's reload, which a busy machine takes a
            # while to finish: until then the API answers as before.
            status, body = home_assistant.get_once_ok(
                "/api/v2/datalogger/dsmrreading?limit=1", {"Authorization": f"Token {key}"}
            )
            assert status == 200, body
            assert body["count"] > 0
            _energy_contract(page, screens)
            _pvoutput_export(page, screens)
            _energy_dashboard(page, home_assistant, screens)
            _smart_meter_dashboard(page, home_assistant, screens)
            _linky_card(page, home_assistant, screens)
            phone = browser.new_context(
                viewport=PHONE,
                storage_state=desktop.storage_state(),
                locale=LOCALE,
                timezone_id=TIME_ZONE,
            )
            phone.set_default_timeout(UI_MS)
            phone_page = phone.new_page()
            phone_screens = Screens("phone")
            _smart_meter_dashboard(phone_page, home_assistant, phone_screens)
            _linky_card(phone_page, home_assistant, phone_screens)
        except Exception:
            # What the browser showed and what Home Assistant logged, for the failure's report.
            for number, shown_page in enumerate(
                page for context in browser.contexts for page in context.pages
            ):
                shown_page.screenshot(path=SCREENSHOTS / f"failure-{number}.png")
            lines = home_assistant.log.read_text(errors="replace").splitlines()
            sys.stderr.write("\n".join(line for line in lines if LOGGED.search(line))[-20_000:])
            raise
        finally:
            browser.close()


def _onboard(page: Page, home_assistant: HomeAssistant, screens: Screens) -> None:
    page.goto(home_assistant.url)
    page.get_by_role("button", name="Create my smart home").click()
    page.get_by_role("textbox", name=re.compile("^Name")).fill(OWNER["name"])
    page.get_by_role("textbox", name=re.compile("^Username")).fill(OWNER["username"])
    page.get_by_role("textbox", name=re.compile("^Password")).fill(OWNER["password"])
    page.get_by_role("textbox", name=re.compile("^Confirm password")).fill(OWNER["password"])
    screens.take(page, "onboarding")
    page.get_by_role("button", name="Create account").click()
    # configuration.yaml sets the location: no country, currency or units to pick.
    expect(page.get_by_role("heading", name="Help us to help you")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Finish").click()
    expect(page).to_have_url(re.compile(r"/home"))
    screens.take(page, "home")


def _add_meter(page: Page, home_assistant: HomeAssistant, screens: Screens) -> None:
    page.goto(f"{home_assistant.url}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    page.get_by_placeholder("Search for a brand name").fill("Smart Meter")
    page.get_by_role("button", name="Smart Meter (DSMR P1)", exact=True).click()
    # The menu of the kinds of entry: a P1 meter, a Linky meter, a Solar-Log plant.
    expect(page.get_by_text("A Linky meter (Enedis, France)")).to_be_visible()
    expect(page.get_by_text("A Solar-Log plant on a WEB Enerest portal (cloud)")).to_be_visible()
    _no_translation_error(page)
    page.get_by_text("A smart meter's P1 port (DSMR)").click()
    expect(page.get_by_text("Network (ser2net, Wi-Fi P1 dongle)")).to_be_visible()
    _no_translation_error(page)
    screens.take(page, "connection")
    page.get_by_text("Network (ser2net, Wi-Fi P1 dongle)").click()
    page.get_by_role("textbox", name=re.compile("^Host")).fill("127.0.0.1")
    page.get_by_role("spinbutton", name=re.compile("^Port")).fill(
        str(home_assistant.added_meter_port)
    )
    _no_translation_error(page)
    screens.take(page, "network")
    page.get_by_role("button", name="Submit").click()
    # The meter is found within a second or two: the simulator sends as soon as one connects.
    expect(page.get_by_text("Keep the detected meter type unless you know better.")).to_be_visible()
    _no_translation_error(page)
    screens.take(page, "meter-found")
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("button", name="Skip and finish").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def _device_page(page: Page, screens: Screens) -> None:
    _integration_page(page)
    page.get_by_role("button", name=re.compile(r"^Electricity meter 53769484_A")).click()
    net_power = page.locator("hui-sensor-entity-row").filter(has_text="Net power")
    before = shown(net_power, r"^Net power -?[\d,]+ W$")
    shown(net_power, r"^Net power -?[\d,]+ W$", other_than=before)
    _no_translation_error(page)
    screens.take(page, "device")


def _integration_page(page: Page) -> None:
    page.goto(f"{page.url.split('/config')[0]}/config/integrations/integration/smartmeter")
    # The integration's own words, not Home Assistant's "Add hub".
    expect(page.get_by_role("button", name="Add meter", exact=True)).to_be_visible()


def _turn_the_api_on(page: Page, screens: Screens) -> str:
    """Turn the added meter's API on in its options; return its key."""
    _integration_page(page)
    entry = page.locator(
        "ha-config-entry-row", has=page.get_by_text("Fluvius 53769484_A", exact=True)
    )
    entry.get_by_role("button", name="Configure").first.click()
    # The options in sections, each under its own heading.
    for heading in ("Updates", "DSMR-reader compatible API", "Reading database"):
        expect(page.get_by_role("button", name=heading, exact=True)).to_be_visible()
    switch = page.get_by_role("switch")
    expect(switch).not_to_be_checked()
    # The switch's thumb covers its input: click the switch as a whole, as a person does.
    page.locator("ha-switch").click()
    expect(switch).to_be_checked()
    key = page.get_by_role("textbox", name=re.compile("^API key")).input_value()
    assert re.fullmatch(r"[A-Z0-9]{64}", key)
    _no_translation_error(page)
    screens.take(page, "options")
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("button", name="Finish").click()
    return key


def _energy_contract(page: Page, screens: Screens) -> None:
    _integration_page(page)
    _add_to_added_meter(page, "Add energy contract")
    page.get_by_role("textbox", name="Description").fill("Fluvius 2026")
    page.get_by_role("spinbutton", name=re.compile(r"^Electricity, low tariff")).fill("0.21")
    page.get_by_role("spinbutton", name=re.compile(r"^Electricity, normal tariff")).fill("0.25")
    page.get_by_role("spinbutton", name=re.compile(r"^Gas")).fill("1.30")
    _no_translation_error(page)
    screens.take(page, "energy-contract")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Created configuration for Fluvius 2026.")).to_be_visible()
    page.get_by_role("button", name="Finish").click()


def _add_to_added_meter(page: Page, adding: str) -> None:
    """Start adding a subentry to the meter the test added, once that meter is loaded.

    Saving its options or a subentry reloads it, and the picker lists a meter being reloaded as
    disabled, as it was when the picker opened: open it again until the meter is loaded.
    """
    deadline = time.monotonic() + UI_MS / 1000
    while True:
        page.get_by_role("button", name=adding).click()
        meter = page.get_by_role("button", name="Fluvius 53769484_A")
        expect(meter).to_be_visible()
        if meter.is_enabled() or time.monotonic() > deadline:
            break
        page.keyboard.press("Escape")
        expect(meter).to_be_hidden()
        time.sleep(0.5)
    meter.click()


def _pvoutput_export(page: Page, screens: Screens) -> None:
    _add_to_added_meter(page, "Add PVOutput export")
    page.get_by_role("textbox", name=re.compile("^API key")).fill("0123456789abcdef" * 2)
    page.get_by_role("spinbutton", name=re.compile("^System ID")).fill("12345")
    page.get_by_role("button", name="Submit").click()
    # No internet here: PVOutput cannot be reached, and the form says so.
    expect(page.get_by_role("alert")).to_match_aria_snapshot(
        "- alert: PVOutput cannot be reached; try again later."
    )
    _no_translation_error(page)
    screens.take(page, "pvoutput-offline")
    page.get_by_role("button", name="Close").click()


def _energy_dashboard(page: Page, home_assistant: HomeAssistant, screens: Screens) -> None:
    """Yesterday's energy, gas and costs: a whole day of the seeded history, whatever the hour.

    A page reads the statistics once: at Home Assistant's first start the recorder may still be
    writing them, a series at a time (the seeded Linky meter's three years and the Solar-Log
    plant's backfill too: a minute or more on a busy machine), so it is loaded again until
    they show.
    """
    # The costs' series come last.
    rows = (
        page.get_by_role("row", name=re.compile(r"^Grid total [1-9][\d.]* kWh €(?!0\.00)")),
        page.get_by_role("row", name=re.compile(r"^Gas total [1-9][\d.]* m³ €(?!0\.00)")),
    )
    page.goto(f"{home_assistant.url}/energy")
    deadline = time.monotonic() + START_SECONDS
    while True:
        period = page.locator("hui-energy-period-selector")
        shown_before = shown(period, r"\d")
        period.get_by_role("button", name="Previous", exact=True).click()
        shown(period, r"\d", other_than=shown_before)
        try:
            for row in rows:
                expect(row).to_be_visible(timeout=10_000)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()
        else:
            break
    _no_translation_error(page)
    screens.take(page, "energy-dashboard")


# The Smart meter dashboard's statistic cards: today's change of these statistics.
TODAY_STATISTICS = tuple(
    f"smartmeter:4b384547303034303436333935353037_{key}"
    for key in ("energy_delivered", "energy_delivered_cost", "gas", "gas_cost")
)
TODAY_TEXT = (
    r"^Electricity today (\S+) kWh Its costs (\S+) EUR Gas today (\S+) m³ Its costs (\S+) EUR$"
)


def _today_cards(page: Page) -> None:
    """Today's energy, gas and their costs show as the recorder has them, to the card's 2 decimals.

    A statistic card reads the hour in progress from the 5-minute statistics, which imported
    statistics do not have: it shows today's complete hours, and "?" in the day's first hour.
    """
    grid = page.locator("hui-grid-card")
    for _ in range(3):
        text = shown(grid, TODAY_TEXT)
        cards = re.fullmatch(TODAY_TEXT, text)
        assert cards is not None
        # An evaluation has no time limit of its own: the page's gives one.
        changes = page.evaluate(
            """([ids, ms]) => Promise.race([
                Promise.all(ids.map(id => document.querySelector("home-assistant").hass
                    .callWS({type: "recorder/statistic_during_period", statistic_id: id,
                             calendar: {period: "day"}, types: ["change"]})
                    .then(answer => answer.change ?? null))),
                new Promise((_, reject) => setTimeout(() => reject(new Error("no answer")), ms)),
            ])""",
            [list(TODAY_STATISTICS), UI_MS],
        )
        if all(
            card == "?"
            if change is None
            else card != "?" and abs(float(card.replace(",", "")) - change) <= 0.005
            for card, change in zip(cards.groups(), changes, strict=True)
        ):
            break
        # An hour ended between the card's answer and ours: the page asks again.
        page.reload()
    else:
        raise AssertionError(f"{text!r} shown for {changes}")
    if changes[0] is None:
        assert datetime.now(ZoneInfo(TIME_ZONE)).hour in (0, 1), text
    else:
        assert changes[0] > 0, changes


def _smart_meter_dashboard(page: Page, home_assistant: HomeAssistant, screens: Screens) -> None:
    page.goto(f"{home_assistant.url}/smart-meter/smart-meter")
    shown(page.locator("hui-gauge-card"), r"-?[\d,]+ W")
    _today_cards(page)
    # The history graph and the two daily statistics graphs, drawn with their series.
    expect(page.get_by_role("application", name="Chart")).to_have_count(3)
    for series in ("L1", "L2", "L3", "Consumed", "Returned", "Gas (change)"):
        expect(page.get_by_role("button", name=series, exact=True)).to_be_visible()
    shown(
        page.locator("hui-entities-card"),
        r"^Meters Electricity consumed [\d.]+ kWh Electricity returned [\d.]+ kWh Gas [\d.]+ m³$",
    )
    _no_translation_error(page)
    page.screenshot(path=screens.folder / "smart-meter-dashboard.png", full_page=True)


# The Linky card's lines and the sensors they show, by measurement.
LINKY_LINES = {
    "CONSOMMATION": (
        ("HIER", "daily_consumption", "kWh"),
        ("MOIS", "monthly_consumption", "kWh"),
        ("ANNÉE", "annual_consumption", "kWh"),
        ("P MAX", "maximum_power", "kVA"),
        ("COURBE", "consumption_load_curve", "kW"),
    ),
    "PRODUCTION": (
        ("HIER", "daily_production", "kWh"),
        ("MOIS", "monthly_production", "kWh"),
        ("ANNÉE", "annual_production", "kWh"),
        ("COURBE", "production_load_curve", "kW"),
    ),
}


def _linky_display(page: Page, mode: str) -> str:
    """Return what the card's display shows of the seeded meter's sensors, as the UI has them."""
    entity_ids = [f"sensor.linky_{PRM}_{key}" for _, key, _ in LINKY_LINES[mode]]
    states = page.evaluate(
        """ids => ids.map(id => document.querySelector("home-assistant").hass.states[id].state)""",
        entity_ids,
    )
    lines = [
        f"{label} {float(state):.3f} {unit}"
        for (label, _, unit), state in zip(LINKY_LINES[mode], states, strict=True)
    ]
    assert float(states[0]) > 0
    return " ".join([mode, *lines])


def _linky_card(page: Page, home_assistant: HomeAssistant, screens: Screens) -> None:
    """The Linky card on the seeded Linky meter: yesterday's values, then production."""
    page.goto(f"{home_assistant.url}/linky-meter/linky")
    card = page.locator("smartmeter-linky-card")
    screen = card.get_by_role("group", name="CONSOMMATION")
    shown(screen, r"^CONSOMMATION HIER [1-9]")
    shown(screen, f"^{re.escape(_linky_display(page, 'CONSOMMATION'))}$")
    # The meter's colour by default, and a display as wide as the card, whatever the width.
    linky = card.locator(".linky")
    expect(linky).to_have_css("background-color", "rgb(163, 204, 40)")
    card_box, screen_box = card.bounding_box(), screen.bounding_box()
    assert card_box is not None
    assert screen_box is not None
    assert screen_box["width"] > 0.8 * card_box["width"]
    screens.take(page, "linky-card")
    card.get_by_role("button", name="Consumption or production").click()
    shown(
        card.get_by_role("group", name="PRODUCTION"),
        f"^{re.escape(_linky_display(page, 'PRODUCTION'))}$",
    )
    _no_translation_error(page)
    page.screenshot(path=screens.folder / "linky-card.png")
    # Another colour, as the card's configuration gives it.
    card.evaluate("card => card.setConfig({ color: '0, 94, 184' })")
    expect(card.locator(".linky")).to_have_css("background-color", "rgb(0, 94, 184)")
