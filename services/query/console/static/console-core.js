// What every part of the console shares: its state, the words in the chosen language, and the
// small formatters of cells, durations, percentages, clocks and referrals.
import { TEXT } from "./console-text.js";

export const channel = (name) => TEXT[state.language].channels?.[name] ?? name;
// Idempotency keys; crypto.randomUUID exists only on HTTPS or localhost pages, getRandomValues everywhere.
export const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
export const serverNow = () => new Date(Date.now() + state.offset);

// ``session`` counts sign-ins and sign-outs: an answer to a request of an earlier one is dropped.
export const state = { offset: 0, token: sessionStorage.getItem("pronto-token") || "", role: "", language: localStorage.getItem("pronto-language") || (navigator.language || "en").slice(0, 2), events: null, refreshing: false, again: false, data: null, session: 0 };
if (!TEXT[state.language]) state.language = "en";
window.prontoLoadedAt = Date.now(); // tests check the page is never reloaded

export const $ = (selector) => document.querySelector(selector);
export const t = (key, ...args) => { const v = TEXT[state.language][key] ?? TEXT.en[key] ?? key; return typeof v === "function" ? v(...args) : v; };

export function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? t("none");
  if (className) td.className = className;
  return td;
}

export function fill(tableSelector, rows, toCells) {
  const body = $(`${tableSelector} tbody`);
  body.replaceChildren(...rows.map((row) => { const tr = document.createElement("tr"); tr.append(...toCells(row)); return tr; }));
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return t("none");
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const percent = (ratio) => (ratio === null || ratio === undefined ? t("none") : `${(ratio * 100).toFixed(1)}%`);
export const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString(state.language) : t("none"));

export const short = (text) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);

// The ad, post or link that brought the customer: its headline, else where it is, else its ids.
export function referralText(r) {
  if (!r) return "";
  const what = r.headline || r.url || r.ad_id || r.post_id || r.ref || r.source;
  if (!what) return "";
  return /^ads?$/i.test(r.source) || r.ad_id ? t("fromAd", what) : t("referredBy", what);
}
