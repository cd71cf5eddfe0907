import assert from "node:assert/strict";
import { defaultLlamaBackend, LLAMA_PACKAGES, llamaPackageFor } from "./llama_package_for.ts";
import { RELEASES } from "./releases.ts";

Deno.test("llamaPackageFor: each platform and backend maps to its pinned package", () => {
  const name = (b: string, os: string, arch: string) => {
    const p = llamaPackageFor(b, os, arch);
    return `${p.name}@${p.version}`;
  };
  assert.equal(name("cpu", "linux", "x86_64"), "@node-llama-cpp/linux-x64@3.22.1");
  assert.equal(name("cuda", "linux", "x86_64"), "@node-llama-cpp/linux-x64-cuda@3.22.1");
  assert.equal(name("vulkan", "linux", "x86_64"), "@node-llama-cpp/linux-x64-vulkan@3.22.1");
  assert.equal(name("cpu", "linux", "aarch64"), "@node-llama-cpp/linux-arm64@3.22.1");
  assert.equal(name("metal", "darwin", "aarch64"), "@node-llama-cpp/mac-arm64-metal@3.21.1");
  assert.equal(name("cpu", "darwin", "aarch64"), "@node-llama-cpp/mac-arm64-metal@3.21.1");
  assert.equal(name("cpu", "darwin", "x86_64"), "@node-llama-cpp/mac-x64@3.21.1");
  assert.equal(defaultLlamaBackend("darwin", "aarch64"), "metal");
  assert.equal(defaultLlamaBackend("linux", "x86_64"), "cpu");
  // Every bound version ships a release the binding has a layout table for.
  const versions = new Set(Object.values(RELEASES).map((r) => r.npmVersion));
  for (const p of LLAMA_PACKAGES) assert.ok(versions.has(p.version), `${p.name}@${p.version}`);
});

Deno.test("llamaPackageFor: an unsupported platform or backend is a named error", () => {
  assert.throws(
    () => llamaPackageFor("metal", "linux", "x86_64"),
    (e: Error) =>
      e.message.startsWith("Cannot load llama.cpp with backend metal on linux-x86_64") &&
      e.message.includes("cuda (@node-llama-cpp/linux-x64-cuda@3.22.1)") &&
      e.message.includes("--llama-lib DIR"),
  );
  assert.throws(
    () => llamaPackageFor("cuda", "darwin", "aarch64"),
    /backend cuda on darwin-aarch64: .*metal \(@node-llama-cpp\/mac-arm64-metal@3\.21\.1\)/,
  );
  assert.throws(
    () => llamaPackageFor("cuda", "linux", "aarch64"),
    /bound for linux-aarch64: cpu \(@node-llama-cpp\/linux-arm64@3\.22\.1\)/,
  );
  assert.throws(
    () => llamaPackageFor("cpu", "freebsd", "x86_64"),
    /no node-llama-cpp package is bound for freebsd-x86_64/,
  );
  assert.throws(
    () => llamaPackageFor("cpu", "windows", "x86_64"),
    /no Windows loader .*@node-llama-cpp\/win-x64 exists only up to 3\.21\.1/,
  );
  assert.throws(
    () => llamaPackageFor("rocm", "linux", "x86_64"),
    (e: Error) =>
      e instanceof RangeError &&
      e.message === 'Unknown llama.cpp backend "rocm": expected cpu, cuda, vulkan, metal',
  );
});
