import type { MemoryHeader, MemoryType } from '../../memory/types.js';
import { parseTags, parseTail, type HeaderTail } from './catalog.js';

/** Where the rest of a header served from the catalog is, and what to do if that part is damaged. */
export interface TailSource {
  text: string;
  /** Reads the file itself when the catalog's line turns out to be damaged (never a crash). */
  repair(header: FileHeader): HeaderTail;
}

/**
 * The header of one memory file, as the markdown backend keeps it for one command. Served from the
 * catalog, it holds at once only what every command needs of every memory (id, type, dates, size)
 * and parses title, tags and extra keys from the catalog line on first use: a `list` of 20 out of
 * 10,000 parses 20. Hand it out as `plain()`, never as is (its lazy fields are getters).
 */
export class FileHeader implements MemoryHeader {
  private tail: HeaderTail | undefined;
  private tagList: string[] | undefined;

  constructor(
    public id: string,
    public type: MemoryType,
    public created: string,
    public updated: string,
    public bytes: number,
    /** The file's name in its type folder (`<name>.md`). */
    public file: string,
    tail: HeaderTail | undefined,
    private readonly source?: TailSource,
    private readonly tailStart = 0,
    private readonly tailEnd = 0,
  ) {
    this.tail = tail;
    this.tagList = tail?.tags;
  }

  private full(): HeaderTail {
    if (this.tail) return this.tail;
    const source = this.source!;
    this.tail = parseTail(source.text, this.tailStart, this.tailEnd) ?? source.repair(this);
    this.tagList = this.tail.tags;
    return this.tail;
  }

  get title(): string {
    return this.full().title;
  }

  get tags(): string[] {
    // Tags alone are cheaper to parse, and all that counting them (status) needs.
    if (!this.tagList) this.tagList = (this.source && parseTags(this.source.text, this.tailStart, this.tailEnd)) ?? this.full().tags;
    return this.tagList;
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
