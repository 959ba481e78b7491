/*
 * exitNow(code): ends the process at once with this exit code, as _Exit does: no atexit handlers,
 * no teardown of V8 or of Node.js's threads.
 *
 * The command line calls it when a command is done and nothing is pending (src/cli/fast-exit.ts),
 * after Node.js's 'exit' handlers have run. Left to itself, Node.js ends a process only once V8 has
 * finished the optimising compilations it started on background threads for the command's hot
 * functions, and tears down the heap: 2 to 25 ms of a command that has already printed its answer.
 */
#include <node_api.h>
#include <stdlib.h>

napi_value exit_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t code = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1) napi_get_value_int32(env, argv[0], &code);
  _Exit(code);
  return NULL;
}
