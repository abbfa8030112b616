// The hub's debugging UI: discover a hub from a resource's Link headers, subscribe
// with EventSource, publish with fetch, and follow the active subscriptions.
// No external files: it works offline, served by the hub alone.
'use strict';

const SUBSCRIPTIONS_TOPIC = '/.well-known/mercure/subscriptions{/topic}{/subscriber}';
const $ = (id) => document.getElementById(id);
let source = null;
let subsSource = null;
let cookieSet = false;
const subscriptionRows = new Map();

const lines = (text) => text.split('\n').map((s) => s.trim()).filter(Boolean);

function show(id, text, error = false) {
  const out = $(id);
  out.textContent = text;
  out.classList.toggle('error', error);
}

function hubUrl() {
  return new URL($('hub-url').value.trim() || '/.well-known/mercure', window.location.href);
}

function authMode() {
  return $('auth-cookie').checked ? 'cookie' : 'header';
}

function jwt() {
  return $('jwt').value.trim();
}

/** Stores the JWT in the authorization cookie (or clears it when empty). */
function setAuthCookie() {
  const hub = hubUrl();
  if (hub.origin !== window.location.origin) {
    throw new Error(`cookie authentication needs the hub on this page's origin (${window.location.origin})`);
  }
  const name = $('cookie-name').value.trim() || 'mercureAuthorization';
  const token = jwt();
  let cookie = `${name}=${token}; Path=${hub.pathname}; SameSite=Strict`;
  if (hub.protocol === 'https:') cookie += '; Secure';
  if (!token) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  document.cookie = cookie;
  cookieSet = token !== '';
}

/** Forgets a cookie this page set, so that header mode really sends no cookie. */
function clearAuthCookie() {
  if (!cookieSet) return;
  const name = $('cookie-name').value.trim() || 'mercureAuthorization';
  document.cookie = `${name}=; Path=${hubUrl().pathname}; SameSite=Strict; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  cookieSet = false;
}

/** Fetch options carrying the JWT the way the settings say. */
function authorizedFetchInit(init = {}) {
  if (authMode() === 'cookie') {
    setAuthCookie();
    return { ...init, credentials: 'include' };
  }
  const token = jwt();
  return token ? { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } } : init;
}

/** An EventSource on the hub for these topics, authorised the way the settings say. */
function openSource(topics, lastEventId) {
  const url = hubUrl();
  for (const t of topics) url.searchParams.append('topic', t);
  const cookie = authMode() === 'cookie';
  if (cookie) setAuthCookie();
  else if (jwt()) url.searchParams.set('authorization', jwt());
  if (lastEventId) url.searchParams.set('lastEventID', lastEventId);
  return new EventSource(url, { withCredentials: cookie });
}

function showUpdate(e) {
  const li = document.createElement('li');
  li.dataset.id = e.lastEventId;
  li.textContent = `${e.type !== 'message' ? `[${e.type}] ` : ''}${e.lastEventId}: ${e.data}`;
  $('updates').prepend(li);
}

function subscribe(event) {
  event.preventDefault();
  unsubscribe();
  try {
    source = openSource(lines($('sub-topics').value), $('sub-last-event-id').value.trim());
  } catch (err) {
    show('sub-status', String(err.message ?? err), true);
    return;
  }
  show('sub-status', 'connecting…');
  source.onopen = () => show('sub-status', 'connected');
  source.onerror = () => show('sub-status', source && source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…', true);
  source.onmessage = showUpdate;
  // Typed events (`type` field) are not "message" events; listen to the one named in the publish form.
  const type = $('pub-type').value.trim();
  if (type) source.addEventListener(type, showUpdate);
  $('unsubscribe').disabled = false;
}

function unsubscribe() {
  if (source) source.close();
  source = null;
  $('unsubscribe').disabled = true;
  show('sub-status', 'not connected');
}

async function publish(event) {
  event.preventDefault();
  const body = new URLSearchParams();
  for (const t of lines($('pub-topics').value)) body.append('topic', t);
  body.set('data', $('pub-data').value);
  if ($('pub-private').checked) body.set('private', 'on');
  for (const name of ['id', 'type', 'retry']) {
    const v = $(`pub-${name}`).value.trim();
    if (v) body.set(name, v);
  }
  try {
    const res = await fetch(hubUrl(), authorizedFetchInit({ method: 'POST', body }));
    const text = await res.text();
    show('pub-result', res.ok ? `published ${text}` : `${res.status}: ${text.trim()}`, !res.ok);
  } catch (err) {
    show('pub-result', String(err.message ?? err), true);
  }
}

/** Splits a Link header value into { url, params } entries (RFC 8288, quoted strings kept whole). */
function parseLinks(header) {
  const links = [];
  const re = /<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)/g;
  for (const m of header.matchAll(re)) {
    const params = {};
    for (const p of m[2].matchAll(/;\s*([^;,=\s]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?/g)) {
      const name = p[1].toLowerCase();
      let value = p[2] ?? '';
      if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      if (!(name in params)) params[name] = value;
    }
    links.push({ url: m[1], params });
  }
  return links;
}

const hasRel = (link, rel) => (link.params.rel ?? '').toLowerCase().split(/\s+/).includes(rel);

async function discover(event) {
  event.preventDefault();
  $('discover-body').textContent = '';
  try {
    const resource = new URL($('discover-url').value.trim(), window.location.href);
    const res = await fetch(resource, { credentials: 'same-origin' });
    const links = parseLinks(res.headers.get('Link') ?? '');
    const hub = links.find((l) => hasRel(l, 'mercure'));
    if (!hub) {
      show('discover-result', `${res.status}: no Link header with rel="mercure" on ${resource.href}`, true);
      return;
    }
    const self = links.find((l) => hasRel(l, 'self'));
    const topic = new URL(self ? self.url : resource.href, resource).href;
    $('hub-url').value = new URL(hub.url, resource).href;
    $('sub-topics').value = topic;
    $('pub-topics').value = topic;
    if (hub.params['cookie-name']) $('cookie-name').value = hub.params['cookie-name'];
    if (hub.params['last-event-id']) $('sub-last-event-id').value = hub.params['last-event-id'];
    show('discover-result', `hub ${$('hub-url').value}, topic ${topic}`);
    $('discover-body').textContent = await res.text();
  } catch (err) {
    show('discover-result', String(err.message ?? err), true);
  }
}

function putSubscription(s) {
  let tr = subscriptionRows.get(s.id);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.id = s.id;
    subscriptionRows.set(s.id, tr);
    $('subscriptions').append(tr);
  }
  tr.replaceChildren(...[s.topic, s.subscriber, s.payload === undefined ? '' : JSON.stringify(s.payload)].map((text) => {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  }));
}

function dropSubscription(id) {
  subscriptionRows.get(id)?.remove();
  subscriptionRows.delete(id);
}

async function watchSubscriptions() {
  stopSubscriptions();
  $('subs-stop').disabled = false;
  try {
    const hub = hubUrl();
    const api = new URL(`${hub.pathname.replace(/\/$/, '')}/subscriptions`, hub);
    const res = await fetch(api, authorizedFetchInit());
    if (!res.ok) {
      show('subs-status', `${res.status}: ${(await res.text()).trim()}`, true);
      return;
    }
    const doc = await res.json();
    for (const s of doc.subscriptions) putSubscription(s);
    // Events after the listed state: replay from the lastEventID the list was taken at.
    subsSource = openSource([SUBSCRIPTIONS_TOPIC], doc.lastEventID);
    show('subs-status', 'connecting…');
    subsSource.onopen = () => show('subs-status', 'watching');
    subsSource.onerror = () => show('subs-status', subsSource && subsSource.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…', true);
    subsSource.onmessage = (e) => {
      const s = JSON.parse(e.data);
      if (s.active) putSubscription(s);
      else dropSubscription(s.id);
    };
  } catch (err) {
    show('subs-status', String(err.message ?? err), true);
  }
}

function stopSubscriptions() {
  if (subsSource) subsSource.close();
  subsSource = null;
  subscriptionRows.clear();
  $('subscriptions').replaceChildren();
  $('subs-stop').disabled = true;
  show('subs-status', 'not watching');
}

function settingsChanged() {
  if (authMode() === 'header') clearAuthCookie();
  show('settings-status', `${authMode() === 'cookie' ? 'cookie' : 'header'} authorization, hub ${hubUrl().href}`);
}

$('hub-url').value = new URL('/.well-known/mercure', window.location.href).href;
$('discover-url').value = new URL('demo/books/1.jsonld', window.location.href).href;
$('settings-form').addEventListener('change', settingsChanged);
$('settings-form').addEventListener('submit', (e) => e.preventDefault());
$('discover-form').addEventListener('submit', discover);
$('subscribe-form').addEventListener('submit', subscribe);
$('unsubscribe').addEventListener('click', unsubscribe);
$('publish-form').addEventListener('submit', publish);
$('subs-watch').addEventListener('click', watchSubscriptions);
$('subs-stop').addEventListener('click', stopSubscriptions);
settingsChanged();
