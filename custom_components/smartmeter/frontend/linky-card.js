// A Lovelace card that looks like a Linky meter's display: the latest day, month, year,
// maximum power and half hour of a Linky meter of the smartmeter integration, consumption or
// production (the "- | +" button switches, as on the meter). Served by the integration and
// loaded by Home Assistant's frontend on every dashboard: no build step.
//
//   type: custom:smartmeter-linky-card
//   device_id: <optional: the Linky meter's device; the first one otherwise>
//   color: 163, 204, 40          # the meter's body colour (red, green, blue)
//   measurement: consumption     # or production: what it shows first

const DEFAULT_COLOR = [163, 204, 40];
const LINES = [
  ["daily", "HIER", "kWh"],
  ["monthly", "MOIS", "kWh"],
  ["annual", "ANNÉE", "kWh"],
  ["max_power", "P MAX", "kVA"],
  ["load_curve", "COURBE", "kW"],
];
const TITLES = { consumption: "CONSOMMATION", production: "PRODUCTION" };

const STYLE = `
  :host { display: block; }
  ha-card { overflow: hidden; container-type: inline-size; }
  .linky {
    background: var(--linky-color);
    padding: 4cqw 5cqw 5cqw;
    border-radius: var(--ha-card-border-radius, 12px);
    font-family: "DejaVu Sans Mono", "Courier New", monospace;
    color: #1d2a08;
  }
  .brand {
    display: flex; justify-content: space-between; align-items: baseline;
    font-family: var(--ha-font-family-body, sans-serif);
    font-weight: 700; font-size: clamp(14px, 6cqw, 30px); letter-spacing: 0.04em;
    margin-bottom: 3cqw;
  }
  .brand small { font-weight: 400; font-size: 0.5em; opacity: 0.8; }
  .screen {
    background: #1f2a1b; color: #b9f27c;
    border: 0.8cqw solid rgba(0, 0, 0, 0.35); border-radius: 2cqw;
    padding: 3cqw 4cqw; font-size: clamp(12px, 4.4cqw, 26px);
    box-shadow: inset 0 0 2cqw rgba(0, 0, 0, 0.6);
  }
  .mode { font-weight: 700; letter-spacing: 0.1em; margin-bottom: 1.5cqw; }
  .line { display: grid; grid-template-columns: 1fr auto 3.2em; gap: 0.6em; line-height: 1.5; }
  .line .value { text-align: right; font-variant-numeric: tabular-nums; }
  .line .unit { opacity: 0.8; }
  .line.main { font-size: 1.35em; }
  .keys { display: flex; justify-content: center; margin-top: 4cqw; }
  button {
    font: inherit; font-weight: 700; font-size: clamp(14px, 5cqw, 26px);
    padding: 1.2cqw 5cqw; border-radius: 999px; cursor: pointer;
    background: rgba(255, 255, 255, 0.85); color: #1d2a08;
    border: 0.5cqw solid rgba(0, 0, 0, 0.25);
  }
  button[disabled] { opacity: 0.45; cursor: default; }
  .missing { padding: 16px; }
`;

function parseColor(color) {
  const parts = Array.isArray(color) ? color : String(color ?? "").split(",");
  const numbers = parts.map((part) => Number(String(part).trim()));
  const valid = numbers.length === 3 && numbers.every((n) => Number.isInteger(n) && n >= 0 && n <= 255);
  return valid ? numbers : DEFAULT_COLOR;
}

class SmartmeterLinkyCard extends HTMLElement {
  setConfig(config) {
    this._config = { ...config };
    this._measurement = config.measurement === "production" ? "production" : "consumption";
    this._render();
  }

  set hass(hass) {
    const previous = this._hass;
    this._hass = hass;
    // Home Assistant hands over a new hass at every state change anywhere: the display is
    // drawn again only when the meter's entities or their states changed.
    const unchanged =
      previous?.entities === hass.entities &&
      this._shown?.every((entityId) => previous.states[entityId] === hass.states[entityId]);
    if (!unchanged) this._render();
  }

  getCardSize() {
    return 5;
  }

  getGridOptions() {
    return { columns: 6, min_columns: 4, rows: "auto" };
  }

  static getStubConfig() {
    return { color: DEFAULT_COLOR.join(", ") };
  }

  // The meter's entities by translation key ("consumption_daily", ...), of its device.
  _entities() {
    const found = {};
    let device = this._config.device_id;
    for (const entry of Object.values(this._hass.entities ?? {})) {
      if (entry.platform !== "smartmeter" || !entry.translation_key) continue;
      if (!/^(consumption|production)_/.test(entry.translation_key)) continue;
      if (!device) device = entry.device_id;
      if (entry.device_id === device) found[entry.translation_key] = entry.entity_id;
    }
    return found;
  }

  _switch() {
    this._measurement = this._measurement === "consumption" ? "production" : "consumption";
    this._render();
  }

  _value(entityId) {
    const state = entityId && this._hass.states[entityId];
    if (!state || ["unknown", "unavailable"].includes(state.state)) return "-----";
    const number = Number(state.state);
    // Only numbers go into the display (it is HTML).
    return Number.isFinite(number) ? number.toFixed(3) : "-----";
  }

  _render() {
    if (!this._config || !this._hass) return;
    if (!this.shadowRoot) this.attachShadow({ mode: "open" });
    const entities = this._entities();
    this._shown = Object.values(entities);
    const has = (measurement) => Boolean(entities[`${measurement}_daily`]);
    if (!has(this._measurement) && has(this._other())) this._measurement = this._other();
    const [red, green, blue] = parseColor(this._config.color);
    const root = this.shadowRoot;
    root.innerHTML = "";
    const style = document.createElement("style");
    style.textContent = STYLE;
    const card = document.createElement("ha-card");
    root.append(style, card);
    if (!has("consumption") && !has("production")) {
      card.innerHTML = `<div class="missing">No Linky meter found.</div>`;
      return;
    }
    const linky = document.createElement("div");
    linky.className = "linky";
    linky.style.setProperty("--linky-color", `rgb(${red}, ${green}, ${blue})`);
    const lines = LINES.filter(([key]) => entities[`${this._measurement}_${key}`])
      .map(([key, label, unit], index) => {
        const value = this._value(entities[`${this._measurement}_${key}`]);
        return `<div class="line${index ? "" : " main"}" data-key="${key}">
          <span class="label">${label}</span><span class="value">${value}</span>
          <span class="unit">${unit}</span></div>`;
      })
      .join("");
    linky.innerHTML = `
      <div class="brand"><span>Linky</span><small>Enedis</small></div>
      <div class="screen" role="group" aria-label="${TITLES[this._measurement]}">
        <div class="mode">${TITLES[this._measurement]}</div>${lines}
      </div>
      <div class="keys"><button type="button" aria-label="Consumption or production">− | +</button></div>`;
    const button = linky.querySelector("button");
    if (has("consumption") && has("production")) {
      button.addEventListener("click", () => this._switch());
    } else {
      button.disabled = true;
    }
    card.append(linky);
  }

  _other() {
    return this._measurement === "consumption" ? "production" : "consumption";
  }
}

if (!customElements.get("smartmeter-linky-card")) {
  customElements.define("smartmeter-linky-card", SmartmeterLinkyCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: "smartmeter-linky-card",
    name: "Linky meter",
    description: "A Linky meter's display: consumption and production of the latest day.",
  });
}
