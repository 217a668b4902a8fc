"""Forwarding a meter's telegrams to DSMR-reader instances, with a repair issue per refusal."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...const import DOMAIN
from ...forward import Forwarder, ForwardQueue, Target
from ...lifecycle import async_on_unload_or_stop
from ...models import SmartMeterConfigEntry


def forward_targets(text: str) -> list[Target]:
    """Parse the forwarding option: one ``<datalogger URL> <API key>`` per line.

    Raises ValueError for a line that is not a URL and a key.
    """
    targets = []
    for line in text.splitlines():
        if not line.strip():
            continue
        url, _, key = line.strip().partition(" ")
        targets.append(Target(url, key.strip()))
    return targets


async def async_start_forwarding(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, targets: list[Target]
) -> Forwarder:
    """Open the entry's forward queue and start delivering it."""
    path = Path(hass.config.path(f"smartmeter_{entry.entry_id}_forward.db"))
    queue = await hass.async_add_executor_job(ForwardQueue.open, path)
    forwarder = Forwarder(
        async_get_clientsession(hass), queue, targets, hass.async_add_executor_job
    )
    await forwarder.run()
    remove_listener = forwarder.add_listener(
        lambda: _sync_forward_issues(hass, entry, forwarder, stopped=False)
    )

    async def _async_stop() -> None:
        remove_listener()
        await forwarder.stop()
        await hass.async_add_executor_job(queue.close)
        # Raised again by the next refusal if the targets still refuse after a reload.
        _sync_forward_issues(hass, entry, forwarder, stopped=True)

    async_on_unload_or_stop(hass, entry, _async_stop)
    return forwarder


def _sync_forward_issues(
    hass: HomeAssistant, entry: SmartMeterConfigEntry, forwarder: Forwarder, *, stopped: bool
) -> None:
    """Keep a repair issue for each target that refuses telegrams until its settings change."""
    stats = forwarder.stats()
    for target in forwarder.targets:
        issue_id = f"forward_blocked_{entry.entry_id}_{target.id}"
        reason = None if stopped else stats[target.id].blocked_reason
        if reason is None:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
            continue
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=f"forward_{reason}",
            translation_placeholders={"title": entry.title, "url": target.name},
        )
