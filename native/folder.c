/*
 * readFolder(folder): a folder's entry names and the lstat of each, in one call.
 *
 * The markdown backend checks every memory file's size and times at the start of each command
 * (SPEC section 3: a file edited in place changes nothing but itself). Through Node.js that is a
 * readdir and then, per file, an lstat that costs about three times the system call: the path is
 * converted and walked from the root, and a Stats object made and collected. Here the folder is
 * opened once, read, its names sorted, and each looked up in it (fstatat), filling one Float64Array.
 *
 * Returns [names, stats, sameOrder, folder, fromRecord, unrecorded, ahead]: names joined by "/"
 * (which no file name contains) in byte order, which for UTF-8 is code point order; sameOrder is
 * true when no name has a character past U+FFFF, the only case where JavaScript's order (by UTF-16
 * unit) can differ; folder, fromRecord and unrecorded are below (struct listing, struct record);
 * ahead is true when the listing was read ahead (prefetch). stats holds
 * FIELDS doubles per name: kind (KIND_*, or minus errno when the lstat failed), size, mtimeMs,
 * ctimeMs, ino, the times computed as Node.js computes Stats.mtimeMs so both paths agree to the bit.
 * A name that is not valid UTF-8 is reported missing: Node.js could not name it either.
 * Throws an Error with `code` (ENOENT, ENOTDIR, EACCES, ...) when the folder cannot be read.
 *
 * prefetch(folders, records): reads these folders on threads while the command line loads its
 * code; the first readFolder of each takes that read (src/cli/read-ahead.ts), and a folder whose
 * catalog record still holds is not read but taken from it (struct record).
 */
#include <node_api.h>
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIELDS 5
enum { KIND_MISSING = 0, KIND_FILE = 1, KIND_LINK = 2, KIND_OTHER = 3 };

#if defined(__APPLE__)
#define MTIME(st) ((st).st_mtimespec)
#define CTIME(st) ((st).st_ctimespec)
#else
#define MTIME(st) ((st).st_mtim)
#define CTIME(st) ((st).st_ctim)
#endif

static double ms(double sec, double nsec) { return sec * 1000 + nsec / 1000000; }

static const char *errno_code(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    default: return "EIO";
  }
}

/* Throws like Node.js's fs: "<CODE>: <message>, scandir '<folder>'" with `code` and `errno`. */
static napi_value throw_errno(napi_env env, int e, const char *folder) {
  const char *code = errno_code(e);
  size_t size = strlen(code) + strlen(strerror(e)) + strlen(folder) + 32;
  char *text = malloc(size);
  if (text) snprintf(text, size, "%s: %s, scandir '%s'", code, strerror(e), folder);
  napi_value error, code_value, message, errno_value;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, text ? text : code, NAPI_AUTO_LENGTH, &message);
  free(text);
  napi_create_error(env, code_value, message, &error);
  napi_set_named_property(env, error, "code", code_value);
  napi_create_int32(env, -e, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

static int valid_utf8(const unsigned char *s) {
  while (*s) {
    unsigned char c = *s;
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 && c >= 0xC2 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 && c <= 0xF4 ? 3 : -1;
    if (n < 0) return 0;
    s++;
    for (int i = 0; i < n; i++, s++)
      if ((*s & 0xC0) != 0x80) return 0;
    /* overlong 3-byte forms, surrogates and code points past U+10FFFF */
    if (n == 2 && ((c == 0xE0 && s[-2] < 0xA0) || (c == 0xED && s[-2] >= 0xA0))) return 0;
    if (n == 3 && ((c == 0xF0 && s[-3] < 0x90) || (c == 0xF4 && s[-3] >= 0x90))) return 0;
  }
  return 1;
}

/*
 * A folder's names: their bytes one after another in `text` (each ending in NUL, for fstatat), and
 * for each its place, length and highest byte (a name of ASCII alone, the usual case, needs no
 * UTF-8 check, and only a byte of 0xF0 or more can make byte order differ from JavaScript's).
 * One buffer rather than a copy per name: at 100,000 names the allocations, frees and repeated
 * strlen of a copy each were a tenth of the call.
 */
struct name { size_t at; const char *bytes; unsigned length; unsigned char top; };
struct names { struct name *items; size_t count, capacity; char *text; size_t length, text_capacity; };

static int by_name(const void *a, const void *b) {
  const struct name *x = a, *y = b;
  unsigned shorter = x->length < y->length ? x->length : y->length;
  int c = memcmp(x->bytes, y->bytes, shorter);
  return c ? c : (x->length > y->length) - (x->length < y->length);
}

static void names_free(struct names *n) {
  free(n->items);
  free(n->text);
}

/* Adds a name of `length` bytes (not NUL-terminated in `name`; stored with a NUL). */
static int names_add_n(struct names *n, const char *name, size_t length) {
  if (n->count == n->capacity) {
    size_t capacity = n->capacity ? n->capacity * 2 : 256;
    struct name *items = realloc(n->items, capacity * sizeof *items);
    if (!items) return 0;
    n->items = items;
    n->capacity = capacity;
  }
  if (n->length + length + 1 > n->text_capacity) {
    size_t capacity = n->text_capacity ? n->text_capacity * 2 : 16384;
    while (capacity < n->length + length + 1) capacity *= 2;
    char *text = realloc(n->text, capacity);
    if (!text) return 0;
    n->text = text;
    n->text_capacity = capacity;
  }
  unsigned char top = 0;
  for (size_t k = 0; k < length; k++)
    if ((unsigned char)name[k] > top) top = (unsigned char)name[k];
  memcpy(n->text + n->length, name, length);
  n->text[n->length + length] = 0;
  n->items[n->count++] = (struct name){n->length, NULL, (unsigned)length, top};
  n->length += length + 1;
  return 1;
}

static int names_add(struct names *n, const char *name) { return names_add_n(n, name, strlen(name)); }

/* Points each name at its bytes, once the text no longer moves. */
static void names_point(struct names *n) {
  for (size_t i = 0; i < n->count; i++) n->items[i].bytes = n->text + n->items[i].at;
}

/* Points each name at its bytes and sorts them in byte order. */
static void names_sort(struct names *n) {
  names_point(n);
  qsort(n->items, n->count, sizeof *n->items, by_name);
}

/* Past this many names the lstats are shared among threads, one per processor up to MAX_THREADS:
 * the kernel looks names up in parallel (as git's preload-index does), which halves this part on
 * two cores. */
#define PARALLEL_FROM 200
#define MAX_THREADS 4

struct stat_job { int dir; const struct name *names; double *out; size_t from, to; };

static void *stat_range(void *arg) {
  struct stat_job *job = arg;
  for (size_t i = job->from; i < job->to; i++) {
    const char *name = job->names[i].bytes;
    double *row = job->out + i * FIELDS;
    memset(row, 0, FIELDS * sizeof(double));
    struct stat st;
    if (job->names[i].top >= 0x80 && !valid_utf8((const unsigned char *)name)) continue;
    if (fstatat(job->dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      row[0] = errno == ENOENT ? KIND_MISSING : -(double)errno;
      continue;
    }
    row[0] = S_ISREG(st.st_mode) ? KIND_FILE : S_ISLNK(st.st_mode) ? KIND_LINK : KIND_OTHER;
    row[1] = (double)st.st_size;
    row[2] = ms((double)MTIME(st).tv_sec, (double)MTIME(st).tv_nsec);
    row[3] = ms((double)CTIME(st).tv_sec, (double)CTIME(st).tv_nsec);
    row[4] = (double)st.st_ino;
  }
  return NULL;
}

static void stat_all(int dir, const struct name *names, double *out, size_t count) {
  long processors = sysconf(_SC_NPROCESSORS_ONLN);
  size_t threads = count < PARALLEL_FROM || processors < 2 ? 1 : (size_t)(processors < MAX_THREADS ? processors : MAX_THREADS);
  struct stat_job jobs[MAX_THREADS];
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (size_t t = 0; t < threads; t++) {
    jobs[t] = (struct stat_job){dir, names, out, count * t / threads, count * (t + 1) / threads};
    /* The calling thread takes the first share; a thread that cannot start leaves its share to it. */
    if (t > 0) started[t] = pthread_create(&ids[t], NULL, stat_range, &jobs[t]) == 0;
  }
  stat_range(&jobs[0]);
  for (size_t t = 1; t < threads; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
    else stat_range(&jobs[t]);
  }
}

/* One folder read, in C memory: what read_folder turns into JavaScript values. */
struct listing {
  char *folder;    /* the path asked for, as given */
  int error;       /* errno when the folder could not be read (the rest is then empty) */
  struct names names;
  double *stats;   /* FIELDS per name */
  /* The folder's own lstat, taken before its names were read: inode, mtimeMs, ctimeMs, and the
   * clock's time just before it (ms); has_folder is 0 when it could not be taken. */
  double folder_stat[4];
  int has_folder;
  int from_record; /* the names came from the catalog's record of the folder (below), not readdir */
  int unrecorded;  /* the catalog given for the folder has a clean index that records no folder */
  struct record *record; /* the catalog's record of this folder, when the caller gave one */
};

/*
 * What a markdown context's catalog recorded of one of its folders (src/storage/markdown/catalog.ts,
 * CatalogIndex): its names, joined by "/" in byte order, at `names_at` in the catalog file, and the
 * folder's own inode and times when it was listed, recorded only when they had settled (the racily
 * clean rule of src/storage/markdown/file-times.ts, applied to the folder).
 *
 * Adding, removing or renaming an entry changes its folder's mtime and ctime (POSIX), and nothing
 * can set a ctime back: a folder whose inode and times are still the recorded ones holds the
 * recorded names, and its listing is those names, each stated again (a file edited in place changes
 * only itself). That skips the folder's readdir and the sort of its names, about a quarter of the
 * work of a listing (0.5 us a name of getdents64 on ext4, and the sort). Any doubt (a record that
 * does not parse, names out of order or past U+FFFF, a recorded name that is gone) reads the folder.
 */
struct record {
  int usable;         /* 0: the catalog has a clean index that records no folder (nothing below) */
  int fd;             /* the catalog, open (one per folder: each read closes its own) */
  double ino, mtime, ctime;
  off_t names_at;
  size_t names_length, stats_length;
};

static void listing_free(struct listing *l) {
  free(l->folder);
  names_free(&l->names);
  free(l->stats);
  if (l->record) {
    if (l->record->fd >= 0) close(l->record->fd);
    free(l->record);
  }
  memset(l, 0, sizeof *l);
}

/* Reads exactly `length` bytes at `at`; 0 on a short read or an error. */
static int read_at(int fd, char *out, size_t length, off_t at) {
  while (length) {
    ssize_t got = pread(fd, out, length, at);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      return 0;
    }
    out += got;
    length -= (size_t)got;
    at += got;
  }
  return 1;
}

/*
 * The listing of folder `dir` from its record: the recorded names, each stated now. 0 (and nothing
 * kept) when the record cannot vouch for them; the caller then reads the folder.
 */
static int list_from_record(struct listing *l, int dir) {
  const struct record *r = l->record;
  char *text = malloc(r->names_length + 1);
  if (!text) return 0;
  struct names *n = &l->names;
  int ok = read_at(r->fd, text, r->names_length, r->names_at);
  for (size_t from = 0; ok && r->names_length;) {
    const char *slash = memchr(text + from, '/', r->names_length - from);
    size_t to = slash ? (size_t)(slash - text) : r->names_length;
    const char *name = text + from;
    size_t length = to - from;
    /* Names as a readdir gives them: not empty, no NUL, not . or .. */
    if (!length || memchr(name, 0, length) || (name[0] == '.' && (length == 1 || (length == 2 && name[1] == '.')))) ok = 0;
    else ok = names_add_n(n, name, length);
    if (!slash) break;
    from = to + 1;
  }
  free(text);
  if (ok) {
    names_point(n);
    /* In strictly increasing byte order, and none past U+FFFF (so that order is JavaScript's too). */
    for (size_t i = 0; ok && i < n->count; i++)
      if (n->items[i].top >= 0xF0 || (i && by_name(&n->items[i - 1], &n->items[i]) >= 0)) ok = 0;
  }
  if (ok && r->stats_length != n->count * FIELDS * sizeof(double)) ok = 0;
  if (ok) {
    l->stats = malloc((n->count ? n->count : 1) * FIELDS * sizeof(double));
    if (!l->stats) ok = 0;
    else stat_all(dir, n->items, l->stats, n->count);
  }
  /* A recorded name that is gone means the folder changed after all: read it. */
  for (size_t i = 0; ok && i < n->count; i++)
    if (l->stats[i * FIELDS] == KIND_MISSING) ok = 0;
  if (!ok) {
    names_free(n);
    memset(n, 0, sizeof *n);
    free(l->stats);
    l->stats = NULL;
  }
  return ok;
}

/* Opens, reads, sorts and states the folder at l->folder; from its record when that vouches for it. */
static void list_folder(struct listing *l) {
  int dir = open(l->folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) { l->error = errno; return; }
  struct timespec now;
  struct stat own;
  if (clock_gettime(CLOCK_REALTIME, &now) == 0 && fstat(dir, &own) == 0) {
    l->folder_stat[0] = (double)own.st_ino;
    l->folder_stat[1] = ms((double)MTIME(own).tv_sec, (double)MTIME(own).tv_nsec);
    l->folder_stat[2] = ms((double)CTIME(own).tv_sec, (double)CTIME(own).tv_nsec);
    l->folder_stat[3] = ms((double)now.tv_sec, (double)now.tv_nsec);
    l->has_folder = 1;
    const struct record *r = l->record;
    l->unrecorded = r && !r->usable;
    if (r && r->usable && r->ino == l->folder_stat[0] && r->mtime == l->folder_stat[1] && r->ctime == l->folder_stat[2] && list_from_record(l, dir)) {
      l->from_record = 1;
      close(dir);
      return;
    }
  }
  int listing = dup(dir);
  DIR *d = listing < 0 ? NULL : fdopendir(listing);
  if (!d) {
    l->error = errno;
    if (listing >= 0) close(listing);
    close(dir);
    return;
  }
  struct names *n = &l->names;
  int failed = 0;
  for (;;) {
    /* readdir reports an error only through errno, so errno is cleared before each call: the
     * allocations between calls may set it even when they succeed (glibc's malloc sets ENOMEM when
     * growing the heap fails and it falls back to mmap), which was taken for a failed read. */
    errno = 0;
    struct dirent *entry = readdir(d);
    if (!entry) {
      failed = errno;
      break;
    }
    const char *name = entry->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    if (!names_add(n, name)) { failed = ENOMEM; break; }
  }
  closedir(d);
  if (!failed) {
    names_sort(n);
    l->stats = malloc((n->count ? n->count : 1) * FIELDS * sizeof(double));
    if (!l->stats) failed = ENOMEM;
    else stat_all(dir, n->items, l->stats, n->count);
  }
  close(dir);
  if (failed) {
    names_free(n);
    memset(n, 0, sizeof *n);
    l->error = failed;
  }
}

/*
 * Folders read ahead: prefetch(folders) reads them on threads of its own while the command line
 * loads its code, and the first readFolder of each takes that read instead of doing it again.
 * Such a read began before the call, after the process started: a command sees the folder as it
 * was at some moment of its run, as it would anyway (src/cli/read-ahead.ts says why that is safe).
 */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t read;  /* signalled as each folder is read */
  size_t count;
  struct listing *items;
  size_t next;          /* the next folder a reading thread takes (under lock) */
  unsigned char *done;  /* each folder read (under lock) */
  unsigned char *taken; /* each is handed out once (main thread only) */
} ahead = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL, 0, NULL, NULL};

/* One context's folders (three) are read side by side: a folder's readdir is one thread's work, and
 * the command waits for all three before doing anything (at 100,000 files about 20 ms less). More
 * folders (a federated search) are read one after another on one thread, in the order the command
 * works through its contexts, which needs the other processor meanwhile (three threads there made
 * it about 10 ms slower). */
#define AHEAD_SIDE_BY_SIDE 3

static void *read_ahead(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&ahead.lock);
    size_t i = ahead.next < ahead.count ? ahead.next++ : ahead.count;
    pthread_mutex_unlock(&ahead.lock);
    if (i == ahead.count) return NULL;
    list_folder(&ahead.items[i]);
    pthread_mutex_lock(&ahead.lock);
    ahead.done[i] = 1;
    pthread_cond_broadcast(&ahead.read);
    pthread_mutex_unlock(&ahead.lock);
  }
}

/*
 * Takes the read-ahead listing of `folder` into `out`, waiting until it has been read; 0 if none
 * was asked for (or it was taken already). The paths are set before the threads start and never
 * change, so they are compared without the lock.
 */
static int take_ahead(const char *folder, struct listing *out) {
  for (size_t i = 0; i < ahead.count; i++) {
    if (ahead.taken[i] || strcmp(ahead.items[i].folder, folder) != 0) continue;
    pthread_mutex_lock(&ahead.lock);
    while (!ahead.done[i]) pthread_cond_wait(&ahead.read, &ahead.lock);
    pthread_mutex_unlock(&ahead.lock);
    ahead.taken[i] = 1;
    *out = ahead.items[i];
    memset(&ahead.items[i], 0, sizeof ahead.items[i]);
    return 1;
  }
  return 0;
}

/*
 * A catalog's records of its three folders (MEMORY_TYPES order), read from its clean index: the
 * first line `whitemagic-catalog 4 <scannedAt> <indexAt>`, then at indexAt a 4-byte little-endian
 * length and a JSON head whose "folders" are, each, {"present":B,"names":N,"stats":M} with
 * ,"folder":"<48 hex digits>" (the bits of inode, mtimeMs and ctimeMs as doubles) when the folder's
 * times had settled; the folders' names and stats follow the head, one folder after the other.
 * Written by CatalogIndex.layout (src/storage/markdown/catalog.ts); anything else gives no record.
 */
#define CATALOG_MAGIC "whitemagic-catalog 4 "
#define FOLDER_TYPES 3

struct catalog_records {
  int fd;
  struct { int usable; double ino, mtime, ctime; off_t names_at; size_t names_length, stats_length; } folder[FOLDER_TYPES];
};

static const char *skip_text(const char *p, const char *end, const char *text) {
  size_t length = strlen(text);
  return p && (size_t)(end - p) >= length && memcmp(p, text, length) == 0 ? p + length : NULL;
}

static const char *read_size(const char *p, const char *end, size_t *out) {
  if (!p || p == end || *p < '0' || *p > '9') return NULL;
  size_t value = 0;
  for (; p < end && *p >= '0' && *p <= '9'; p++) {
    if (value > ((size_t)1 << 40)) return NULL;
    value = value * 10 + (size_t)(*p - '0');
  }
  *out = value;
  return p;
}

static const char *read_bits(const char *p, const char *end, double *out) {
  if (!p || end - p < 16) return NULL;
  uint64_t bits = 0;
  for (int i = 0; i < 16; i++, p++) {
    int c = *p, d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return NULL;
    bits = bits << 4 | (uint64_t)d;
  }
  memcpy(out, &bits, sizeof bits);
  return p;
}

/* Fills `out` from the catalog at `path`; 0 when it has no usable clean index. */
static int read_catalog_records(const char *path, struct catalog_records *out) {
  memset(out, 0, sizeof *out);
  out->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (out->fd < 0) return 0;
  char line[128];
  ssize_t got = pread(out->fd, line, sizeof line, 0);
  const char *end = line + (got > 0 ? got : 0);
  const char *p = skip_text(line, end, CATALOG_MAGIC);
  while (p && p < end && *p != ' ' && *p != '\n') p++; /* scannedAt */
  size_t index_at = 0, head_length = 0;
  p = read_size(skip_text(p, end, " "), end, &index_at);
  unsigned char length_bytes[4];
  char *head = NULL;
  int ok = p && p < end && *p == '\n' && index_at > 0 && read_at(out->fd, (char *)length_bytes, 4, (off_t)index_at);
  if (ok) {
    head_length = (size_t)length_bytes[0] | (size_t)length_bytes[1] << 8 | (size_t)length_bytes[2] << 16 | (size_t)length_bytes[3] << 24;
    head = head_length < ((size_t)64 << 20) ? malloc(head_length) : NULL;
    ok = head && read_at(out->fd, head, head_length, (off_t)index_at + 4);
  }
  if (ok) {
    const char *h = head, *h_end = head + head_length;
    /* "folders" comes before the summary (whose tags could hold any text) in the head. */
    while (h && h < h_end && !skip_text(h, h_end, "\"folders\":[")) h = memchr(h + 1, '"', (size_t)(h_end - h - 1));
    h = skip_text(h, h_end, "\"folders\":[");
    off_t at = (off_t)index_at + 4 + (off_t)head_length;
    for (int i = 0; h && i < FOLDER_TYPES; i++) {
      int present = skip_text(h, h_end, "{\"present\":true") != NULL;
      h = skip_text(h, h_end, present ? "{\"present\":true" : "{\"present\":false");
      size_t names = 0, stats = 0;
      h = read_size(skip_text(h, h_end, ",\"names\":"), h_end, &names);
      h = read_size(skip_text(h, h_end, ",\"stats\":"), h_end, &stats);
      if (h && skip_text(h, h_end, ",\"folder\":\"")) {
        h = skip_text(h, h_end, ",\"folder\":\"");
        h = read_bits(h, h_end, &out->folder[i].ino);
        h = read_bits(h, h_end, &out->folder[i].mtime);
        h = read_bits(h, h_end, &out->folder[i].ctime);
        h = skip_text(h, h_end, "\"");
        out->folder[i].usable = present && h != NULL;
      }
      h = skip_text(h, h_end, i + 1 < FOLDER_TYPES ? "}," : "}]");
      out->folder[i].names_at = at;
      out->folder[i].names_length = names;
      out->folder[i].stats_length = stats;
      at += (off_t)(names + stats);
    }
    ok = h != NULL;
  }
  free(head);
  if (!ok) {
    close(out->fd);
    out->fd = -1;
  }
  return ok;
}

/*
 * The record of folder `type` (an index in MEMORY_TYPES) from `records`, for one listing to own
 * (with its own descriptor of the catalog); NULL when there is none. One that is not `usable` says
 * the clean index records no folder at all (a catalog of an earlier version: the command may write
 * it again); a folder left out while it had just changed is only read, until the next change or
 * list records it (so that a search does not write the catalog after every create).
 */
static struct record *record_of(const struct catalog_records *records, uint32_t type) {
  if (records->fd < 0 || type >= FOLDER_TYPES) return NULL;
  int any = 0;
  for (int i = 0; i < FOLDER_TYPES; i++) any |= records->folder[i].usable;
  if (any && !records->folder[type].usable) return NULL;
  struct record *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->fd = -1;
  if (!any) return r;
  r->usable = 1;
  r->fd = dup(records->fd);
  if (r->fd < 0) {
    free(r);
    return NULL;
  }
  r->ino = records->folder[type].ino;
  r->mtime = records->folder[type].mtime;
  r->ctime = records->folder[type].ctime;
  r->names_at = records->folder[type].names_at;
  r->names_length = records->folder[type].names_length;
  r->stats_length = records->folder[type].stats_length;
  return r;
}

/*
 * The records prefetch was given for folder `i`: `records` is an array beside `folders`, each
 * element null or [catalog path, type index]; consecutive folders of one catalog read it once.
 */
static struct record *record_for(napi_env env, napi_value records, uint32_t i, char *last_path, size_t last_size, struct catalog_records *last) {
  napi_value entry, path_value, type_value;
  bool is_array = false;
  uint32_t type = 0;
  char path[8192];
  size_t length = 0;
  if (napi_get_element(env, records, i, &entry) != napi_ok || napi_is_array(env, entry, &is_array) != napi_ok || !is_array ||
      napi_get_element(env, entry, 0, &path_value) != napi_ok || napi_get_element(env, entry, 1, &type_value) != napi_ok ||
      napi_get_value_string_utf8(env, path_value, path, sizeof path, &length) != napi_ok || length >= sizeof path - 1 ||
      napi_get_value_uint32(env, type_value, &type) != napi_ok)
    return NULL;
  if (strcmp(path, last_path) != 0) {
    if (last->fd >= 0) close(last->fd);
    snprintf(last_path, last_size, "%s", path);
    read_catalog_records(path, last);
  }
  return record_of(last, type);
}

napi_value prefetch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t count = 0, record_count = 0;
  bool is_array = false, has_records = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "prefetch(folders, records?): folders must be an array of strings");
    return NULL;
  }
  has_records = argc >= 2 && napi_is_array(env, argv[1], &is_array) == napi_ok && is_array && napi_get_array_length(env, argv[1], &record_count) == napi_ok;
  if (ahead.count || count == 0) return NULL; /* once per process */
  struct listing *items = calloc(count, sizeof *items);
  unsigned char *taken = calloc(count, 1);
  unsigned char *done = calloc(count, 1);
  if (!items || !taken || !done) { free(items); free(taken); free(done); return NULL; }
  size_t kept = 0;
  char last_path[8192] = "";
  struct catalog_records last = {.fd = -1};
  for (uint32_t i = 0; i < count; i++) {
    napi_value value;
    size_t length;
    if (napi_get_element(env, argv[0], i, &value) != napi_ok || napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok || length >= 8191) continue;
    char *folder = malloc(length + 1);
    if (!folder) continue;
    napi_get_value_string_utf8(env, value, folder, length + 1, &length);
    items[kept].record = has_records && i < record_count ? record_for(env, argv[1], i, last_path, sizeof last_path, &last) : NULL;
    items[kept++].folder = folder;
  }
  if (last.fd >= 0) close(last.fd);
  ahead.items = items;
  ahead.taken = taken;
  ahead.done = done;
  ahead.count = kept;
  if (!kept) return NULL;
  pthread_attr_t attr;
  int started = 0;
  if (pthread_attr_init(&attr) == 0) {
    if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0) {
      size_t threads = kept <= AHEAD_SIDE_BY_SIDE ? kept : 1;
      for (size_t t = 0; t < threads; t++) {
        pthread_t thread;
        if (pthread_create(&thread, &attr, read_ahead, NULL) == 0) started++;
      }
    }
    pthread_attr_destroy(&attr);
  }
  if (!started) read_ahead(NULL); /* no thread: read now; still right, only not ahead */
  return NULL;
}

napi_value read_folder(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  /* Twice Linux's PATH_MAX: a longer path is refused as the kernel would refuse it, ENAMETOOLONG. */
  char folder[8192];
  size_t folder_len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], folder, sizeof folder, &folder_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "readFolder(folder): folder must be a string");
    return NULL;
  }
  if (folder_len >= sizeof folder - 1) return throw_errno(env, ENAMETOOLONG, "(a path of 8,191 bytes or more)");

  struct listing l = {0};
  /* A read ahead that failed is done again here, so the error is the one the folder gives now. */
  int ahead_taken = take_ahead(folder, &l);
  if (!ahead_taken || l.error) {
    ahead_taken = 0;
    listing_free(&l);
    l.folder = strdup(folder);
    if (!l.folder) return throw_errno(env, ENOMEM, folder);
    list_folder(&l);
  }
  if (l.error) {
    int e = l.error;
    listing_free(&l);
    return throw_errno(env, e, folder);
  }
  struct names *n = &l.names;
  napi_value buffer, stats, joined, order, result, folder_buffer, folder_stat, from_record, no_record, was_ahead;
  double *out = NULL;
  if (napi_create_arraybuffer(env, (n->count ? n->count : 1) * FIELDS * sizeof(double), (void **)&out, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, n->count * FIELDS, buffer, 0, &stats) != napi_ok) {
    listing_free(&l);
    return NULL;
  }
  memcpy(out, l.stats, n->count * FIELDS * sizeof(double));
  char *text = malloc(n->length + 1);
  if (!text) {
    listing_free(&l);
    return throw_errno(env, ENOMEM, folder);
  }
  char *end = text;
  int same_order = 1;
  for (size_t i = 0; i < n->count; i++) {
    const struct name *name = &n->items[i];
    if (name->top >= 0xF0) same_order = 0;
    if (i) *end++ = '/';
    memcpy(end, name->bytes, name->length);
    end += name->length;
  }
  double *own = NULL;
  if (!l.has_folder) napi_get_null(env, &folder_stat);
  else if (napi_create_arraybuffer(env, sizeof l.folder_stat, (void **)&own, &folder_buffer) != napi_ok ||
           napi_create_typedarray(env, napi_float64_array, 4, folder_buffer, 0, &folder_stat) != napi_ok) {
    listing_free(&l);
    free(text);
    return NULL;
  } else memcpy(own, l.folder_stat, sizeof l.folder_stat);
  int recorded = l.from_record, unrecorded = l.unrecorded;
  listing_free(&l);
  napi_status status = napi_create_string_utf8(env, text, (size_t)(end - text), &joined);
  free(text);
  if (status != napi_ok || napi_get_boolean(env, same_order, &order) != napi_ok || napi_get_boolean(env, recorded, &from_record) != napi_ok ||
      napi_get_boolean(env, unrecorded, &no_record) != napi_ok || napi_get_boolean(env, ahead_taken, &was_ahead) != napi_ok ||
      napi_create_array_with_length(env, 7, &result) != napi_ok)
    return NULL;
  napi_set_element(env, result, 0, joined);
  napi_set_element(env, result, 1, stats);
  napi_set_element(env, result, 2, order);
  napi_set_element(env, result, 3, folder_stat);
  napi_set_element(env, result, 4, from_record);
  napi_set_element(env, result, 5, no_record);
  napi_set_element(env, result, 6, was_ahead);
  return result;
}

/*
 * changedEntries(stats, recorded): the indexes of the entries whose FIELDS doubles in `stats` (a
 * Float64Array, as readFolder gives it) differ from those in `recorded` (the same layout as bytes,
 * as the catalog's clean index keeps it), as an Int32Array. The catalog patch
 * (src/storage/markdown/catalog-patch.ts) asks it of every folder: comparing 10,000 entries one
 * by one in JavaScript that has not been optimised yet took about 6 ms.
 */
napi_value changed_entries(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result, buffer;
  napi_typedarray_type type_a, type_b;
  size_t length_a, length_b, offset;
  void *data_a, *data_b;
  napi_value array_a, array_b;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_typedarray_info(env, argv[0], &type_a, &length_a, &data_a, &array_a, &offset) != napi_ok || type_a != napi_float64_array ||
      napi_get_typedarray_info(env, argv[1], &type_b, &length_b, &data_b, &array_b, &offset) != napi_ok || type_b != napi_uint8_array ||
      length_b != length_a * sizeof(double)) {
    napi_throw_type_error(env, NULL, "changedEntries(stats: Float64Array, recorded: Uint8Array of the same bytes)");
    return NULL;
  }
  size_t entries = length_a / FIELDS, count = 0;
  const unsigned char *a = data_a, *b = data_b;
  const size_t row = FIELDS * sizeof(double);
  for (size_t i = 0; i < entries; i++)
    if (memcmp(a + i * row, b + i * row, row) != 0) count++;
  int32_t *out;
  if (napi_create_arraybuffer(env, count * sizeof(int32_t), (void **)&out, &buffer) != napi_ok) return NULL;
  for (size_t i = 0, k = 0; i < entries; i++)
    if (memcmp(a + i * row, b + i * row, row) != 0) out[k++] = (int32_t)i;
  napi_create_typedarray(env, napi_int32_array, count, buffer, 0, &result);
  return result;
}

/*
 * listingDigest(names, stats): a digest of folder listings, as 32 hex digits: for each folder, its
 * index, its names joined by "/" (UTF-8) and its stats (the bytes of its FIELDS doubles per name);
 * null (names[i] null) for a folder that is not there.
 *
 * The markdown search index records it after each sync and compares it at the next to know nothing
 * changed (src/storage/markdown/search-index.ts): reading its copy of the listing back out of SQLite
 * and joining the one now took 2 ms at 10,000 files and 20 ms at 100,000. Two 64-bit lanes over
 * 8-byte words, each multiplied and rotated, mixed at the end with the length: it guards against
 * accidents (a listing that changed), not against forgery. listingDigest in
 * src/storage/markdown/folder-listing.ts computes the same in JavaScript (for the tests).
 */
struct digest { uint64_t a, b, length; };

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static void digest_word(struct digest *d, uint64_t w) {
  d->a = rotl64((d->a ^ w) * 0x9E3779B97F4A7C15ULL, 31);
  d->b = rotl64((d->b + w) * 0xC2B2AE3D27D4EB4FULL, 29) ^ d->a;
}

/* Bytes in 8-byte little-endian words; the last word padded with zeros, and the count mixed in. */
static void digest_bytes(struct digest *d, const unsigned char *bytes, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = 0;
    for (int k = 7; k >= 0; k--) w = (w << 8) | bytes[i + k];
    digest_word(d, w);
  }
  uint64_t w = 0;
  for (size_t k = n; k > i; k--) w = (w << 8) | bytes[k - 1];
  digest_word(d, w);
  digest_word(d, (uint64_t)n);
  d->length += n;
}

napi_value listing_digest(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  uint32_t count = 0, count_stats = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_array_length(env, argv[0], &count) != napi_ok ||
      napi_get_array_length(env, argv[1], &count_stats) != napi_ok || count != count_stats) {
    napi_throw_type_error(env, NULL, "listingDigest(names: (string|null)[], stats: (Float64Array|null)[])");
    return NULL;
  }
  struct digest d = {0x243F6A8885A308D3ULL, 0x13198A2E03707344ULL, 0};
  char *text = NULL;
  size_t capacity = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value name, stat;
    napi_valuetype kind;
    digest_word(&d, i);
    if (napi_get_element(env, argv[0], i, &name) != napi_ok || napi_typeof(env, name, &kind) != napi_ok) goto fail;
    if (kind == napi_null) {
      digest_word(&d, 0xFFFFFFFFFFFFFFFFULL);
      continue;
    }
    size_t length = 0;
    if (napi_get_value_string_utf8(env, name, NULL, 0, &length) != napi_ok) goto fail;
    if (length + 1 > capacity) {
      char *bigger = realloc(text, length + 1);
      if (!bigger) goto fail;
      text = bigger;
      capacity = length + 1;
    }
    napi_get_value_string_utf8(env, name, text, length + 1, &length);
    digest_bytes(&d, (const unsigned char *)text, length);
    napi_typedarray_type type;
    size_t elements, offset;
    void *data;
    napi_value buffer;
    if (napi_get_element(env, argv[1], i, &stat) != napi_ok ||
        napi_get_typedarray_info(env, stat, &type, &elements, &data, &buffer, &offset) != napi_ok || type != napi_float64_array) goto fail;
    digest_bytes(&d, data, elements * sizeof(double));
  }
  free(text);
  digest_word(&d, d.length);
  char hex[33];
  snprintf(hex, sizeof hex, "%016llx%016llx", (unsigned long long)d.a, (unsigned long long)d.b);
  napi_create_string_latin1(env, hex, 32, &result);
  return result;
fail:
  free(text);
  napi_throw_type_error(env, NULL, "listingDigest(names: (string|null)[], stats: (Float64Array|null)[])");
  return NULL;
}
