#!/usr/bin/env node
// `npx dropdesk <command>` from a checkout: compiles the server into dist/dropdesk.mjs when it is
// missing or older than src/ (scripts/build-server.mjs), then runs that JavaScript in this process.
import { buildServer, SERVER_BUNDLE } from "../scripts/build-server.mjs";
import { pathToFileURL } from "node:url";

await buildServer({ quiet: true });
await import(pathToFileURL(SERVER_BUNDLE).href);
