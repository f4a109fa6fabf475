// Small DOM helpers shared by the views. Updates write only when a value changed, so a 2-second
// refresh neither flickers nor disturbs text the user is selecting.
/* global document */

/** The element with this id; throws at start-up if index.html lost it, rather than failing later. */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no element #${id}`);
  return element;
}

/**
 * Creates an element. `props` keys: `class`, `text`, `dataset` (object), `attrs` (object),
 * `on` (event name → handler); anything else is set as a property. Children may be strings.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'attrs') for (const [name, v] of Object.entries(value)) element.setAttribute(name, v);
    else if (key === 'on') for (const [name, handler] of Object.entries(value)) element.addEventListener(name, handler);
    else element[key] = value;
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

/** Sets textContent when it differs. */
export function setText(element, text) {
  const value = String(text);
  if (element.textContent !== value) element.textContent = value;
}

/** Sets an attribute when it differs; `null` removes it. */
export function setAttr(element, name, value) {
  if (value === null || value === undefined) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  } else if (element.getAttribute(name) !== String(value)) {
    element.setAttribute(name, String(value));
  }
}

/** Shows or hides an element through the `hidden` attribute. */
export function show(element, visible) {
  if (element.hidden === visible) element.hidden = !visible;
}

/** Sets the width of a `.bar` and its ARIA value; `fraction` is clamped to 0..1. */
export function setBar(bar, fraction, level = null) {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const fill = bar.querySelector('.bar-fill');
  const width = `${(clamped * 100).toFixed(1)}%`;
  if (fill && fill.style.width !== width) fill.style.width = width;
  setAttr(bar, 'aria-valuenow', Math.round(clamped * 100));
  setAttr(bar, 'data-level', level);
}

/**
 * Fills a `<dl>` whose items are `<div data-key="…"><dt/><dd/></div>`: `values` maps a key to
 * its text, or to `{ text, level }` to flag it (`level` is "warn" or "bad").
 */
export function fillStats(list, values) {
  for (const item of list.querySelectorAll('[data-key]')) {
    const value = values[item.dataset.key];
    if (value === undefined) continue;
    const { text, level = null } = typeof value === 'object' && value !== null ? value : { text: value };
    const dd = item.querySelector('dd');
    if (dd) setText(dd, text);
    setAttr(item, 'data-level', level);
  }
}
