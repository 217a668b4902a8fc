"""The Smart meter dashboard: the README shows the very one scripts/develop ships."""

from pathlib import Path
import re

from homeassistant.util.yaml import parse_yaml

from custom_components.smartmeter.longterm import ALL_SERIES
from custom_components.smartmeter.statistic_metadata import statistic_object_id
from scripts.develop_seed import METER

REPO = Path(__file__).resolve().parents[1]
DASHBOARD = (REPO / "config" / "smart_meter_dashboard.yaml").read_text()


def test_readme_shows_the_dashboard_scripts_develop_ships() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### A dashboard to start from") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    assert block[1] == DASHBOARD


def test_dashboard_statistics_are_the_seeded_meters() -> None:
    """Every smartmeter: statistic it charts is one the integration keeps for the seeded meter."""
    config = parse_yaml(DASHBOARD)
    assert isinstance(config, dict)
    statistics = set(re.findall(r"smartmeter:\w+", DASHBOARD))
    kept = {f"smartmeter:{statistic_object_id(METER)}_{series.key}" for series in ALL_SERIES}
    assert statistics <= kept
    assert len(statistics) == 5
    assert [card["type"] for card in config["views"][0]["cards"]] == [
        "gauge",
        "history-graph",
        "grid",
        "statistics-graph",
        "statistics-graph",
        "entities",
    ]
