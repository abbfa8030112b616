// The hub's debugging UI: subscribe with EventSource, publish with fetch.
'use strict';

const HUB = new URL('/.well-known/mercure', window.location.href);
const $ = (id) => document.getElementById(id);
let source = null;

const lines = (text) => text.split('\n').map((s) => s.trim()).filter(Boolean);

function setStatus(text, error = false) {
  const out = $('sub-status');
  out.textContent = text;
  out.classList.toggle('error', error);
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
  const url = new URL(HUB);
  for (const t of lines($('sub-topics').value)) url.searchParams.append('topic', t);
  const jwt = $('sub-jwt').value.trim();
  if (jwt) url.searchParams.set('authorization', jwt);
  const last = $('sub-last-event-id').value.trim();
  if (last) url.searchParams.set('lastEventID', last);
  source = new EventSource(url, { withCredentials: true });
  setStatus('connecting…');
  source.onopen = () => setStatus('connected');
  source.onerror = () => setStatus(source && source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…', true);
  source.onmessage = showUpdate;
  // Typed events (`type` field) are not "message" events; listen to the ones asked for.
  const type = $('pub-type').value.trim();
  if (type) source.addEventListener(type, showUpdate);
  $('unsubscribe').disabled = false;
}

function unsubscribe() {
  if (source) source.close();
  source = null;
  $('unsubscribe').disabled = true;
  setStatus('not connected');
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
  const out = $('pub-result');
  try {
    const res = await fetch(HUB, { method: 'POST', body, headers: { Authorization: `Bearer ${$('pub-jwt').value.trim()}` } });
    const text = await res.text();
    out.textContent = res.ok ? `published ${text}` : `${res.status}: ${text.trim()}`;
    out.classList.toggle('error', !res.ok);
  } catch (err) {
    out.textContent = String(err);
    out.classList.add('error');
  }
}

$('hub-url').textContent = HUB.href;
$('subscribe-form').addEventListener('submit', subscribe);
$('unsubscribe').addEventListener('click', unsubscribe);
$('publish-form').addEventListener('submit', publish);
