/*
 * whitemagic's native addon (built on install where a compiler is present; optional): what it
 * offers, each part in its own file. The JavaScript side is src/util/native.ts.
 */
#include <node_api.h>

napi_value read_folder(napi_env env, napi_callback_info info); /* folder.c */
napi_value prefetch(napi_env env, napi_callback_info info);    /* folder.c */
napi_value changed_entries(napi_env env, napi_callback_info info); /* folder.c */
napi_value listing_digest(napi_env env, napi_callback_info info); /* folder.c */
napi_value exit_now(napi_env env, napi_callback_info info);    /* exit.c */
napi_value front_matter_digests(napi_env env, napi_callback_info info); /* digest.c */

/* A part added: one line here, its declaration above. */
static const struct { const char *name; napi_callback fn; } PARTS[] = {
  {"readFolder", read_folder},
  {"prefetch", prefetch},
  {"changedEntries", changed_entries},
  {"listingDigest", listing_digest},
  {"exitNow", exit_now},
  {"frontMatterDigests", front_matter_digests},
};

NAPI_MODULE_INIT() {
  for (size_t i = 0; i < sizeof PARTS / sizeof PARTS[0]; i++) {
    napi_value fn;
    napi_create_function(env, PARTS[i].name, NAPI_AUTO_LENGTH, PARTS[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, PARTS[i].name, fn);
  }
  return exports;
}
