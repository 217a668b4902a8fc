"""Telegrams the integration receives are forwarded to DSMR-reader instances."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.diagnostics import async_get_config_entry_diagnostics
from custom_components.smartmeter.forward import Target
from tests.common import network_entry, options_input, setup_entry, until
from tests.meters import TcpMeter, telegram

TARGET_KEY = "T" * 64


@pytest.fixture
async def target(socket_enabled: None) -> AsyncIterator[tuple[list[str], TestServer]]:
    """Serve a DSMR-reader datalogger API that takes TARGET_KEY; yield what it received."""
    received: list[str] = []

    async def dsmrreading(request: web.Request) -> web.Response:
        if request.headers.get("X-AUTHKEY") != TARGET_KEY:
            return web.Response(status=403, text="Invalid auth key")
        received.append(str((await request.post())["telegram"]))
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/v1/datalogger/dsmrreading", dsmrreading)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield received, server
    await server.close()


async def test_forward_local_telegrams(
    hass: HomeAssistant, tcp_meter: TcpMeter, target: tuple[list[str], TestServer]
) -> None:
    """Every valid telegram from the meter reaches the DSMR-reader target, in order."""
    received, server = target
    url = str(server.make_url("/api/v1/datalogger/dsmrreading"))
    entry = network_entry(tcp_meter.port, options={"forward_targets": f"{url} {TARGET_KEY}"})
    await setup_entry(hass, entry)
    for name in ("v5.txt", "v4_2.txt"):
        await tcp_meter.send(telegram(name))
    forwarder = entry.runtime_data.forwarder
    assert forwarder is not None
    await until(hass, lambda: [s.sent for s in forwarder.stats().values()] == [2])
    assert received == [telegram("v5.txt").decode(), telegram("v4_2.txt").decode()]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    (stats,) = diagnostics["forwarding"].values()
    assert (stats["sent"], stats["waiting"], stats["blocked_reason"]) == (2, 0, None)
    assert diagnostics["entry"]["options"]["forward_targets"] == "**REDACTED**"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_forward_targets_option(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """A line that is no URL and key is refused with a clear error."""
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    options = {"min_update_interval": 0, "api_enabled": False, "api_key": "k"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], options_input(**options, forward_targets="dsmr.local KEY")
    )
    assert result["errors"] == {"forward_targets": "invalid_forward_targets"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        options_input(
            **options, forward_targets="\nhttp://dsmr.local/api/v1/datalogger/dsmrreading KEY\n"
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["forward_targets"] == (
        "http://dsmr.local/api/v1/datalogger/dsmrreading KEY"
    )
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.allow_log(r"refuses all telegrams")
async def test_refusing_target_raises_a_repair_issue(
    hass: HomeAssistant, tcp_meter: TcpMeter, target: tuple[list[str], TestServer]
) -> None:
    """A target that refuses the key gets a repair issue, gone once the new key is accepted."""
    received, server = target
    url = str(server.make_url("/api/v1/datalogger/dsmrreading"))
    entry = network_entry(tcp_meter.port, options={"forward_targets": f"{url} WRONG"})
    await setup_entry(hass, entry)
    await tcp_meter.send(telegram("v5.txt"))
    issue_id = f"forward_blocked_{entry.entry_id}_{Target(url, TARGET_KEY).id}"
    issues = ir.async_get(hass)
    await until(hass, lambda: issues.async_get_issue(DOMAIN, issue_id) is not None)
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert (issue.translation_key, issue.severity, issue.is_fixable) == (
        "forward_invalid_auth",
        ir.IssueSeverity.ERROR,
        False,
    )
    assert issue.translation_placeholders == {"title": entry.title, "url": url}

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "forward_targets": f"{url} {TARGET_KEY}"}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    # The queued telegram is delivered with the corrected key; the issue is gone.
    await until(hass, lambda: received == [telegram("v5.txt").decode()])
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await hass.config_entries.async_unload(entry.entry_id)
