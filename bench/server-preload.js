// Preloaded by scripts/bench.sh into the real test server (node -r bench/server-preload.js tests/server/server.js):
// besides "/", "/chat" and "/admin", the server then also accepts the namespaces /bench-<n> (workload E connects 10
// namespaces on one connection). Nothing else changes: the namespaces have no handlers; the bench only needs them
// connected. It patches Server.prototype.of of the very socket.io copy that server.js loads (resolved from
// tests/server/), registering the dynamic namespace /^\/bench-\d+$/ once, on the server's first of() call.
"use strict";

const path = require("path");

const serverDir = path.join(__dirname, "..", "tests", "server");
const { Server } = require(require.resolve("socket.io", { paths: [serverDir] }));

const of = Server.prototype.of;
Server.prototype.of = function benchOf(name, fn) {
  if (!this.__benchNamespaces) {
    this.__benchNamespaces = true;
    of.call(this, /^\/bench-\d+$/);
  }
  return of.call(this, name, fn);
};
