/**
 * A small SSE client for end-to-end tests: opens a stream, parses events as
 * they arrive, and lets a test await the next event or a condition (never a sleep).
 */
import { request, type IncomingMessage } from 'node:http';
import { EventEmitter } from 'node:events';

export interface SseEvent { id?: string; type?: string; data: string; retry?: number }

export class SseClient extends EventEmitter {
  readonly res: IncomingMessage;
  readonly events: SseEvent[] = [];
  ended = false;
  readonly closed: Promise<void>;
  #buf = '';
  #cur: SseEvent & { lines: string[] } = { data: '', lines: [] };

  private constructor(res: IncomingMessage) {
    super();
    this.res = res;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.#feed(chunk));
    this.closed = new Promise((resolve) => {
      const done = () => { if (!this.ended) { this.ended = true; this.emit('end'); } resolve(); };
      res.once('end', done);
      res.once('close', done);
      res.once('error', done);
    });
  }

  /** Opens a stream; rejects with the status and body when the answer is not 200. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => { body += c; });
          res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
          return;
        }
        resolve(new SseClient(res));
      });
      req.on('error', reject);
      req.end();
    });
  }

  #feed(chunk: string): void {
    this.#buf += chunk;
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl).replace(/\r$/, '');
      this.#buf = this.#buf.slice(nl + 1);
      if (line === '') {
        if (this.#cur.lines.length || this.#cur.id !== undefined) {
          const { lines, ...ev } = this.#cur;
          ev.data = lines.join('\n');
          this.events.push(ev);
          this.emit('event', ev);
        }
        this.#cur = { data: '', lines: [] };
        continue;
      }
      if (line.startsWith(':')) { this.emit('comment', line); continue; }
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'data') this.#cur.lines.push(value);
      else if (field === 'id') this.#cur.id = value;
      else if (field === 'event') this.#cur.type = value;
      else if (field === 'retry') this.#cur.retry = Number(value);
    }
  }

  /** Resolves once pred holds over the events received so far; rejects after timeoutMs or if the stream ends first. */
  waitFor(pred: (events: SseEvent[]) => boolean, timeoutMs = 20_000): Promise<SseEvent[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pred(this.events)) { done(); resolve(this.events); }
        else if (this.ended) { done(); reject(new Error(`stream ended after ${this.events.length} events`)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${timeoutMs} ms with ${this.events.length} events`)); }, timeoutMs);
      const done = () => { clearTimeout(timer); this.off('event', check); this.off('end', check); };
      this.on('event', check);
      this.on('end', check);
      check();
    });
  }

  /** Waits for n events in total. */
  count(n: number, timeoutMs?: number): Promise<SseEvent[]> { return this.waitFor((e) => e.length >= n, timeoutMs); }

  close(): void { this.res.destroy(); }
}
