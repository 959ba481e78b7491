import type { MemoryHeader, MemoryType } from '../../memory/types.js';
import { MEMORY_TYPES } from '../../memory/types.js';
import { detach } from '../bulk.js';
import { parseRest, parseTags, recordOfLine, type HeaderTail } from './catalog.js';

/** Where the rest of a header served from the catalog is, and what to do if that part is damaged. */
export interface TailSource {
  /** The catalog's bytes from `from` to `to`, as text. */
  read(from: number, to: number): string;
  /** Reads the file itself when the catalog's line turns out to be damaged (never a crash). */
  repair(header: FileHeader): HeaderTail;
}

/**
 * The header of one memory file, as the markdown backend keeps it for one command. Served from the
 * catalog, it holds only what commands need of every memory (id, type, dates, tags, size; the
 * text columns as one string) and reads title and extra keys back from the catalog on first use:
 * a `list` of 20 out of 10,000 reads 20. Hand it out as `plain()`, never as is (its lazy fields
 * are getters).
 */
export class FileHeader implements MemoryHeader {
  /** Not reassigned, but by rebase. */
  id: string;
  private tail: HeaderTail | undefined;
  private tagList: string[] | undefined;
  private createdValue: string | undefined;

  constructor(
    /** `id TAB created TAB updated TAB tags` (tags as JSON), and where its three tabs are. */
    private span: string,
    private readonly cut1: number,
    private readonly cut2: number,
    private readonly cut3: number,
    public type: MemoryType,
    public bytes: number,
    /** The file's name in its type folder (`<name>.md`). */
    public file: string,
    tail: HeaderTail | undefined,
    private source?: TailSource,
    private tailStart = 0,
    private tailEnd = 0,
  ) {
    this.id = span.slice(0, cut1);
    this.createdValue = undefined;
    this.tail = tail;
    this.tagList = tail?.tags;
  }

  /** A header whose every field is known (a file just read or written). */
  static of(header: Omit<MemoryHeader, 'name' | 'bytes'>, bytes: number, file: string, derivedId: boolean): FileHeader {
    const { id, created, updated, title, tags, meta } = header;
    const span = `${id}\t${created}\t${updated}`;
    return new FileHeader(span, id.length, id.length + 1 + created.length, span.length, header.type, bytes, file, { title, tags, meta, derivedId });
  }

  /**
   * The header of one whole catalog line (newline included) that starts at file offset `lineStart`;
   * undefined if the line is not a well-formed record of a readable file.
   */
  static ofLine(line: string, lineStart: number, source: TailSource): FileHeader | undefined {
    const r = recordOfLine(line);
    if (!r) return undefined;
    return new FileHeader(r.span, r.cut1, r.cut2, r.cut3, MEMORY_TYPES[r.typeIndex], r.size, r.file, undefined, source, lineStart + r.restAt, lineStart + r.restEnd);
  }

  /** Kept once asked for: a list compares it for every memory. */
  get created(): string {
    this.createdValue ??= this.span.slice(this.cut1 + 1, this.cut2);
    return this.createdValue;
  }

  /**
   * Moves a header that reads its rest from a line in memory (or a spool, or another catalog) to
   * another copy of its line, which starts `delta` bytes after the old one: the scan's lines, a
   * third of what a cold scan of 100,000 files held, can then go. Moved off a line in memory, its
   * strings are copied out of it (a slice would keep the whole line alive); elsewhere they are
   * its own already.
   */
  rebase(source: TailSource, delta: number): void {
    if (!this.source) return; // every field known: nothing is read back
    if (this.source instanceof LineSource) {
      this.span = detach(this.span);
      this.id = this.span.slice(0, this.cut1);
      this.createdValue = undefined;
      this.file = detach(this.file);
    }
    this.source = source;
    this.tailStart += delta;
    this.tailEnd += delta;
  }

  get updated(): string {
    return this.span.slice(this.cut2 + 1, this.cut3);
  }

  get tags(): string[] {
    this.tagList ??= parseTags(this.span.slice(this.cut3 + 1)) ?? this.full().tags;
    return this.tagList;
  }

  private full(): HeaderTail {
    if (this.tail) return this.tail;
    const source = this.source!;
    const rest = parseRest(source.read(this.tailStart, this.tailEnd));
    const tags = this.tagList ?? parseTags(this.span.slice(this.cut3 + 1));
    this.tail = rest && tags ? { ...rest, tags } : source.repair(this);
    this.tagList = this.tail.tags;
    return this.tail;
  }

  get title(): string {
    return this.full().title;
  }

  get meta(): Record<string, unknown> {
    return this.full().meta;
  }

  /** The file carried no id: the one here is derived from its name, and the first write adds it. */
  get derivedId(): boolean {
    return this.full().derivedId;
  }

  get name(): string {
    return this.file.slice(0, -3);
  }

  /** A plain copy, in the field order every backend prints. */
  plain(): MemoryHeader {
    const { title, meta } = this.full();
    return { id: this.id, title, type: this.type, tags: this.tags, created: this.created, updated: this.updated, meta, name: this.name, bytes: this.bytes };
  }
}

/**
 * The source of a header whose line is in memory (a file just read or written, its line not yet
 * in the catalog file): the line is kept for the catalog anyway, so the header reads its title
 * and extra keys back from it when asked instead of holding copies of them (about half of what a
 * scan with a cold catalog held per file).
 */
export class LineSource implements TailSource {
  constructor(
    private readonly line: string,
    private readonly repairs: (header: FileHeader) => HeaderTail,
  ) {}

  read(from: number, to: number): string {
    return this.line.slice(from, to);
  }

  repair(header: FileHeader): HeaderTail {
    return this.repairs(header);
  }

  /** The header of `line`, reading its tail from it; undefined if the line is not a record. */
  static header(line: string, repairs: (header: FileHeader) => HeaderTail): FileHeader | undefined {
    return FileHeader.ofLine(line, 0, new LineSource(line, repairs));
  }
}
