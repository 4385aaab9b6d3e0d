// Compile ContributionRegistry.sol with solc-js into ContributionRegistry.json (ABI, bytecode,
// compiler version, sha256 of the source). Run from the repository root after editing the
// contract: node tools/chain/compile.js
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const solc = require("solc");

const here = __dirname;
const source = fs.readFileSync(path.join(here, "ContributionRegistry.sol"), "utf8");
const input = {
  language: "Solidity",
  sources: { "ContributionRegistry.sol": { content: source } },
  settings: {
    evmVersion: "paris", // no PUSH0: deploys on chains that lag behind mainnet forks
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const contract = output.contracts["ContributionRegistry.sol"].ContributionRegistry;
const artifact = {
  contract: "ContributionRegistry",
  compiler: solc.version(),
  evmVersion: input.settings.evmVersion,
  source_sha256: crypto.createHash("sha256").update(source).digest("hex"),
  abi: contract.abi,
  bytecode: "0x" + contract.evm.bytecode.object,
};
fs.writeFileSync(path.join(here, "ContributionRegistry.json"), JSON.stringify(artifact, null, 1) + "\n");
console.log(`compiled with solc ${artifact.compiler}`);
