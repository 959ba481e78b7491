{
  "variables": {
    "sqlite_headers": "<!(node scripts/sqlite-headers.mjs)"
  },
  "targets": [
    {
      "target_name": "whitemagic_native",
      "sources": ["native/addon.c", "native/folder.c", "native/exit.c", "native/digest.c"],
      "cflags": ["-O2", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ],
  "conditions": [
    ["sqlite_headers!=''", {
      "targets": [
        {
          "target_name": "whitemagic_rank",
          "sources": ["native/rank.c"],
          "include_dirs": ["<(sqlite_headers)"],
          "cflags": ["-O2"],
          "libraries": ["-lm"]
        }
      ]
    }]
  ]
}
