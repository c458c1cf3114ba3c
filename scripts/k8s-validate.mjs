// Validates Kubernetes objects against the schemas of the kubernetes-models
// package (generated from the Kubernetes OpenAPI specification).
//   node scripts/k8s-validate.mjs NODE_MODULES_DIR < objects.json
// Input: a JSON array of {source, object}.  Prints one line per invalid
// object or unknown kind and exits 1 when there is any.
// NOTE: the schemas do not forbid unknown fields, so a misspelt optional
// field passes here; scripts/check-deploy.sh checks the fields flowsift uses.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const items = JSON.parse(readFileSync(0, "utf8"));
let failures = 0;

for (const { source, object } of items) {
  const { apiVersion, kind } = object;
  const name = `${source}: ${kind} ${object.metadata?.name ?? "(no name)"}`;
  if (!apiVersion || !kind) {
    console.log(`${name}: missing apiVersion or kind`);
    failures++;
    continue;
  }
  // "apps/v1" -> apps/v1; "v1" (the core group) -> v1.
  const file = join(modules, "kubernetes-models", apiVersion, `${kind}.mjs`);
  let model;
  try {
    model = (await import(pathToFileURL(file).href))[kind];
  } catch {
    console.log(`${name}: no schema for ${apiVersion} ${kind} in kubernetes-models`);
    failures++;
    continue;
  }
  try {
    new model(object).validate();
  } catch (error) {
    console.log(`${name}: invalid: ${error.message}`);
    failures++;
  }
}
console.log(`k8s-validate: ${items.length - failures} of ${items.length} objects valid`);
process.exit(failures ? 1 : 0);
