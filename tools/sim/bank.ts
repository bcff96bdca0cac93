import { PageIdx, type Page, type Snapshot, type VolumeId } from '../../src/core/index.ts';
import type { Runtime, VolumeWriter } from '../../src/runtime/index.ts';

/** A transfer the workload wants to make; `id` is unique across the whole run. */
export interface TransferIntent {
  readonly id: string;
  readonly client: number;
  readonly seq: number;
  readonly from: number;
  readonly to: number;
  readonly amount: number;
}

/** A transfer as recorded in the bank's log (the amount is clipped to the payer's balance). */
export interface TransferRecord {
  readonly id: string;
  readonly from: number;
  readonly to: number;
  readonly amount: number;
}

/** Everything a snapshot of the bank holds. */
export interface BankState {
  readonly balances: readonly number[];
  readonly counters: readonly number[];
  readonly log: readonly TransferRecord[];
}

export interface TransferHooks {
  /** Between the reads and the writes: the transaction's think time, when other operations run. */
  think(): Promise<void>;
  /** Right before the commit: the simulator notes the LSN it will take and may tear the write. */
  beforeCommit(): void;
}

/**
 * The bank workload behind the simulator. This page-level version writes fixed records into pages;
 * a SQL version (over the VFS) implements the same three calls with one SQL transaction each.
 */
export interface BankDriver {
  readonly accounts: number;
  readonly initialBalance: number;
  /** One commit that creates every account with the initial balance and an empty log. */
  setup(rt: Runtime, graft: VolumeId): void;
  /**
   * One writer transaction: read both accounts (and every balance, to check the total), write both
   * and append one log record, commit. Throws what the commit throws (ConcurrentWrite, …).
   */
  transfer(rt: Runtime, graft: VolumeId, t: TransferIntent, hooks: TransferHooks): Promise<TransferRecord>;
  /** Reads a whole snapshot; throws BankInvalid if its structure is broken. */
  read(rt: Runtime, snapshot: Snapshot): BankState;
}

/** A snapshot whose bank structure is broken (a torn or mixed snapshot). */
export class BankInvalid extends Error {
  override readonly name = 'BankInvalid';
}

/*
 * Layout (4 KiB pages, all little-endian u32/u16):
 *   page 1                header: magic "BANK" | accounts | log count | initial balance
 *   pages 2..             16 accounts per page, 256 B each: index + 1 | balance | transfer counter
 *   pages after those     the transfer log, 128 records per page, 32 B each:
 *                         magic "TLOG" | client u16 | 0 u16 | seq | from u16 | to u16 | amount | record index
 */
const HEADER_MAGIC = 0x4b4e_4142;
const RECORD_MAGIC = 0x474f_4c54;
const ACCOUNTS_PER_PAGE = 16;
const ACCOUNT_BYTES = 256;
const RECORDS_PER_PAGE = 128;
const RECORD_BYTES = 32;

type ReadFn = (idx: PageIdx) => Page;

export class PageBank implements BankDriver {
  readonly accounts: number;
  readonly initialBalance: number;
  readonly #logStart: number;

  constructor(accounts = 64, initialBalance = 1000) {
    this.accounts = accounts;
    this.initialBalance = initialBalance;
    this.#logStart = 2 + Math.ceil(accounts / ACCOUNTS_PER_PAGE);
  }

  get total(): number {
    return this.accounts * this.initialBalance;
  }

  setup(rt: Runtime, graft: VolumeId): void {
    const w = rt.graftWriter(graft);
    const header = new Uint8Array(4096);
    const hv = view(header);
    hv.setUint32(0, HEADER_MAGIC, true);
    hv.setUint32(4, this.accounts, true);
    hv.setUint32(8, 0, true);
    hv.setUint32(12, this.initialBalance, true);
    w.writePage(PageIdx.parse(1), header);
    for (let p = 0; p < this.#logStart - 2; p++) {
      const page = new Uint8Array(4096);
      for (let k = 0; k < ACCOUNTS_PER_PAGE && p * ACCOUNTS_PER_PAGE + k < this.accounts; k++) {
        const v = view(page);
        v.setUint32(k * ACCOUNT_BYTES, p * ACCOUNTS_PER_PAGE + k + 1, true);
        v.setUint32(k * ACCOUNT_BYTES + 4, this.initialBalance, true);
      }
      w.writePage(PageIdx.parse(2 + p), page);
    }
    w.writePage(PageIdx.parse(this.#logStart), new Uint8Array(4096)); // the first, empty log page
    w.commit();
  }

  async transfer(rt: Runtime, graft: VolumeId, t: TransferIntent, hooks: TransferHooks): Promise<TransferRecord> {
    const w = rt.graftWriter(graft);
    // As the VFS does: a transaction that fails before its commit is discarded (else local GC keeps its snapshot for good).
    try {
      return await this.#transfer(w, t, hooks);
    } finally {
      w.discard();
    }
  }

  async #transfer(w: VolumeWriter, t: TransferIntent, hooks: TransferHooks): Promise<TransferRecord> {
    const read: ReadFn = (idx) => w.readPage(idx);
    const count = this.#header(read, w.pageCount).logCount;
    const balances = this.#readAccounts(read).balances;
    const sum = balances.reduce((a, b) => a + b, 0);
    if (sum !== this.total) throw new BankInvalid(`a writer's snapshot holds a total of ${sum}, not ${this.total}`);
    await hooks.think();
    const amount = Math.min(t.amount, balances[t.from] as number);
    const pages = new Map<number, Uint8Array>();
    const page = (idx: number): Uint8Array => {
      let p = pages.get(idx);
      if (!p) pages.set(idx, (p = read(PageIdx.parse(idx)).slice()));
      return p;
    };
    for (const [acct, delta] of [[t.from, -amount], [t.to, amount]] as const) {
      const p = page(2 + Math.floor(acct / ACCOUNTS_PER_PAGE));
      const at = (acct % ACCOUNTS_PER_PAGE) * ACCOUNT_BYTES;
      view(p).setUint32(at + 4, view(p).getUint32(at + 4, true) + delta, true);
      view(p).setUint32(at + 8, view(p).getUint32(at + 8, true) + 1, true);
    }
    const logPage = page(this.#logStart + Math.floor(count / RECORDS_PER_PAGE));
    const at = (count % RECORDS_PER_PAGE) * RECORD_BYTES;
    const lv = view(logPage);
    lv.setUint32(at, RECORD_MAGIC, true);
    lv.setUint16(at + 4, t.client, true);
    lv.setUint32(at + 8, t.seq, true);
    lv.setUint16(at + 12, t.from, true);
    lv.setUint16(at + 14, t.to, true);
    lv.setUint32(at + 16, amount, true);
    lv.setUint32(at + 20, count, true);
    view(page(1)).setUint32(8, count + 1, true);
    for (const [idx, p] of pages) w.writePage(PageIdx.parse(idx), p);
    hooks.beforeCommit();
    w.commit();
    return { id: t.id, from: t.from, to: t.to, amount };
  }

  read(rt: Runtime, snapshot: Snapshot): BankState {
    const reader = rt.volumeReader(snapshot);
    const read: ReadFn = (idx) => reader.readPage(idx);
    const { logCount } = this.#header(read, snapshot.pageCount);
    const { balances, counters } = this.#readAccounts(read);
    const log: TransferRecord[] = [];
    const lastPage = this.#logStart + Math.floor(logCount / RECORDS_PER_PAGE);
    for (let idx = this.#logStart; idx <= lastPage && idx <= snapshot.pageCount; idx++) {
      const v = view(read(PageIdx.parse(idx)));
      for (let k = 0; k < RECORDS_PER_PAGE; k++) {
        const n = (idx - this.#logStart) * RECORDS_PER_PAGE + k;
        const at = k * RECORD_BYTES;
        if (n >= logCount) {
          if (v.getUint32(at, true) !== 0) throw new BankInvalid(`log record ${n} exists past the log count ${logCount}`);
          continue;
        }
        if (v.getUint32(at, true) !== RECORD_MAGIC || v.getUint32(at + 20, true) !== n) throw new BankInvalid(`log record ${n} of ${logCount} is missing or misplaced`);
        log.push({ id: `${v.getUint16(at + 4, true)}.${v.getUint32(at + 8, true)}`, from: v.getUint16(at + 12, true), to: v.getUint16(at + 14, true), amount: v.getUint32(at + 16, true) });
      }
    }
    if (log.length !== logCount) throw new BankInvalid(`the log count is ${logCount} but ${log.length} records are within the page count ${snapshot.pageCount}`);
    return { balances, counters, log };
  }

  #header(read: ReadFn, pageCount: number): { logCount: number } {
    if (pageCount < this.#logStart) throw new BankInvalid(`the snapshot has ${pageCount} pages, fewer than the bank's ${this.#logStart}`);
    const v = view(read(PageIdx.parse(1)));
    if (v.getUint32(0, true) !== HEADER_MAGIC || v.getUint32(4, true) !== this.accounts) throw new BankInvalid('the bank header is missing or damaged');
    return { logCount: v.getUint32(8, true) };
  }

  #readAccounts(read: ReadFn): { balances: number[]; counters: number[] } {
    const balances: number[] = [];
    const counters: number[] = [];
    for (let p = 0; p < this.#logStart - 2; p++) {
      const v = view(read(PageIdx.parse(2 + p)));
      for (let k = 0; k < ACCOUNTS_PER_PAGE && p * ACCOUNTS_PER_PAGE + k < this.accounts; k++) {
        const i = p * ACCOUNTS_PER_PAGE + k;
        if (v.getUint32(k * ACCOUNT_BYTES, true) !== i + 1) throw new BankInvalid(`account ${i} is missing or misplaced`);
        balances.push(v.getUint32(k * ACCOUNT_BYTES + 4, true));
        counters.push(v.getUint32(k * ACCOUNT_BYTES + 8, true));
      }
    }
    return { balances, counters };
  }
}

/**
 * The bank invariants of one snapshot: the total is the initial total, and replaying the log from
 * the initial balances gives exactly the balances and per-account transfer counters (ledger
 * reconciliation), with every transfer id at most once. Returns the first problem, or undefined.
 */
export function checkBank(state: BankState, driver: BankDriver): string | undefined {
  const total = state.balances.reduce((a, b) => a + b, 0);
  if (total !== driver.accounts * driver.initialBalance) return `total balance is ${total}, not ${driver.accounts * driver.initialBalance}`;
  const balances = new Array<number>(driver.accounts).fill(driver.initialBalance);
  const counters = new Array<number>(driver.accounts).fill(0);
  const seen = new Set<string>();
  for (const t of state.log) {
    if (seen.has(t.id)) return `transfer ${t.id} is recorded twice in one snapshot`;
    seen.add(t.id);
    if (t.from >= driver.accounts || t.to >= driver.accounts) return `transfer ${t.id} names an account out of range`;
    balances[t.from] = (balances[t.from] as number) - t.amount;
    balances[t.to] = (balances[t.to] as number) + t.amount;
    counters[t.from] = (counters[t.from] as number) + 1;
    counters[t.to] = (counters[t.to] as number) + 1;
  }
  for (let i = 0; i < driver.accounts; i++) {
    if (balances[i] !== state.balances[i] || counters[i] !== state.counters[i]) {
      return `account ${i} holds ${state.balances[i]} after ${state.counters[i]} transfers, but its ledger says ${balances[i]} after ${counters[i]}`;
    }
  }
  return undefined;
}

function view(page: Uint8Array): DataView {
  return new DataView(page.buffer, page.byteOffset, page.byteLength);
}
