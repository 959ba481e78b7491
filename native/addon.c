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

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "readFolder", NAPI_AUTO_LENGTH, read_folder, NULL, &fn);
  napi_set_named_property(env, exports, "readFolder", fn);
  napi_create_function(env, "prefetch", NAPI_AUTO_LENGTH, prefetch, NULL, &fn);
  napi_set_named_property(env, exports, "prefetch", fn);
  napi_create_function(env, "changedEntries", NAPI_AUTO_LENGTH, changed_entries, NULL, &fn);
  napi_set_named_property(env, exports, "changedEntries", fn);
  napi_create_function(env, "listingDigest", NAPI_AUTO_LENGTH, listing_digest, NULL, &fn);
  napi_set_named_property(env, exports, "listingDigest", fn);
  napi_create_function(env, "exitNow", NAPI_AUTO_LENGTH, exit_now, NULL, &fn);
  napi_set_named_property(env, exports, "exitNow", fn);
  napi_create_function(env, "frontMatterDigests", NAPI_AUTO_LENGTH, front_matter_digests, NULL, &fn);
  napi_set_named_property(env, exports, "frontMatterDigests", fn);
  return exports;
}
