/*
 * frontMatterDigests(paths): the front-matter digest of each file, in one call.
 *
 * After an editor or a script changed a thousand memory files, the next command reads each to see
 * whether its front matter changed (src/storage/markdown/catalog-patch.ts). Through Node.js each
 * read is an open, a stat, two reads and a close, each a call from JavaScript into C++ with its
 * own buffer; here it is one call for all of them, reading into one buffer.
 *
 * Returns an array with, for each path, the digest exactly as frontMatterDigest in
 * src/storage/markdown/front-matter-digest.ts writes it (`<length>.<16 hex digits>`), or null
 * when the file has no closed front matter in its first BUFFER bytes, has a NUL byte anywhere, is
 * a link or cannot be read: the caller then reads that file itself, so null never hides anything.
 */
#include <node_api.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif

#define BUFFER 65536
#define MAX_PATH 4096

/* The digest of bytes[0..end) (see front-matter-digest.ts), written to out (at least 32 bytes). */
static void digest_of(const unsigned char *bytes, size_t end, char *out, size_t size) {
  uint32_t h1 = 0x811c9dc5u, h2 = 0x9747b28cu;
  for (size_t i = 0; i < end; i++) {
    h1 = (h1 ^ bytes[i]) * 0x01000193u;
    h2 = (h2 ^ bytes[i]) * 0x5bd1e995u;
    h2 ^= h2 >> 15;
  }
  snprintf(out, size, "%zu.%08x%08x", end, h1, h2);
}

/* Where the front matter ends (past its closing `\n---`), or 0 when there is none in bytes[0..n). */
static size_t front_matter_end(const unsigned char *b, size_t n) {
  size_t start = n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf ? 3 : 0;
  if (n < start + 4 || b[start] != '-' || b[start + 1] != '-' || b[start + 2] != '-' || b[start + 3] == '-') return 0;
  for (size_t i = start + 3; i + 3 < n; i++) {
    if (b[i] == '\n' && b[i + 1] == '-' && b[i + 2] == '-' && b[i + 3] == '-') return i + 4;
  }
  return 0;
}

/* The digest of the file at `path` into out; 0 when there is none to give (see the top). */
static int file_digest(const char *path, unsigned char *buffer, char *out, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  size_t n = 0;
  ssize_t got;
  while (n < BUFFER && (got = read(fd, buffer + n, BUFFER - n)) > 0) n += (size_t)got;
  int ok = got >= 0 || n == BUFFER;
  size_t end = ok ? front_matter_end(buffer, n) : 0;
  ok = end > 0 && memchr(buffer, 0, n) == NULL;
  /* The rest of a long file, only to look for a NUL byte (a file with one is not a memory file). */
  if (ok && n == BUFFER) {
    unsigned char rest[BUFFER];
    while ((got = read(fd, rest, sizeof rest)) > 0) {
      if (memchr(rest, 0, (size_t)got)) ok = 0;
    }
    if (got < 0) ok = 0;
  }
  close(fd);
  if (ok) digest_of(buffer, end, out, size);
  return ok;
}

/* Past this many files the reads are shared between two threads: the kernel's part of each (open,
 * read, close) is most of the time, and a second processor halves it. */
#define PARALLEL_FROM 64

struct digest_job { char **paths; char (*digests)[48]; unsigned char *ok; size_t from, to; };

static void *digest_range(void *arg) {
  struct digest_job *job = arg;
  unsigned char *buffer = malloc(BUFFER);
  if (!buffer) return NULL; /* each file left without a digest: its caller reads it */
  for (size_t i = job->from; i < job->to; i++)
    job->ok[i] = job->paths[i] && file_digest(job->paths[i], buffer, job->digests[i], sizeof job->digests[i]);
  free(buffer);
  return NULL;
}

napi_value front_matter_digests(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, item, nothing;
  uint32_t count = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_array_length(env, argv[0], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "frontMatterDigests(paths: string[])");
    return NULL;
  }
  char **paths = calloc(count ? count : 1, sizeof *paths);
  char (*digests)[48] = calloc(count ? count : 1, sizeof *digests);
  unsigned char *ok = calloc(count ? count : 1, 1);
  if (!paths || !digests || !ok) {
    free(paths);
    free(digests);
    free(ok);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  /* The paths first, on this thread (N-API is not for other threads); a path that cannot be had stays NULL. */
  for (uint32_t i = 0; i < count; i++) {
    size_t length = 0;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok || napi_get_value_string_utf8(env, item, NULL, 0, &length) != napi_ok || length >= MAX_PATH) continue;
    paths[i] = malloc(length + 1);
    if (paths[i]) napi_get_value_string_utf8(env, item, paths[i], length + 1, &length);
  }
  struct digest_job jobs[2] = {{paths, digests, ok, 0, count}, {paths, digests, ok, count, count}};
  pthread_t helper;
  int started = 0;
  if (count >= PARALLEL_FROM && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
    jobs[0].to = jobs[1].from = count / 2;
    started = pthread_create(&helper, NULL, digest_range, &jobs[1]) == 0;
  }
  digest_range(&jobs[0]);
  if (started) pthread_join(helper, NULL);
  else if (jobs[1].from < jobs[1].to) digest_range(&jobs[1]);
  napi_create_array_with_length(env, count, &result);
  napi_get_null(env, &nothing);
  for (uint32_t i = 0; i < count; i++) {
    napi_value value = nothing;
    if (ok[i]) napi_create_string_latin1(env, digests[i], NAPI_AUTO_LENGTH, &value);
    napi_set_element(env, result, i, value);
    free(paths[i]);
  }
  free(paths);
  free(digests);
  free(ok);
  return result;
}
