{
  "targets": [
    {
      "target_name": "whitemagic_native",
      "sources": ["native/folder.c"],
      "cflags": ["-O2", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
