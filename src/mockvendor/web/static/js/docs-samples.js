// Code samples (curl, Python, JavaScript) for a request: {method, url, headers, body (string|null)}.

const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

function parsed(body) {
  if (body === null || body === undefined || body === "") return undefined;
  try { return JSON.parse(body); } catch { return undefined; }
}

const isStream = (body) => parsed(body)?.stream === true;

export function curl(req) {
  const lines = [`curl${isStream(req.body) ? " -N" : ""} -X ${req.method} ${shellQuote(req.url)}`];
  for (const [name, value] of Object.entries(req.headers)) lines.push(`  -H ${shellQuote(`${name}: ${value}`)}`);
  if (req.body) {
    const json = parsed(req.body);
    lines.push(`  -d ${shellQuote(json === undefined ? req.body : JSON.stringify(json))}`);
  }
  return lines.join(" \\\n");
}

/** A JSON value as a Python literal (True/False/None), indented. */
function py(value, indent = 0) {
  const pad = "    ".repeat(indent + 1);
  const end = "    ".repeat(indent);
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string" || typeof value === "number") return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return `[\n${value.map((v) => pad + py(v, indent + 1)).join(",\n")},\n${end}]`;
  }
  const entries = Object.entries(value);
  if (!entries.length) return "{}";
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${py(v, indent + 1)}`).join(",\n")},\n${end}}`;
}

export function python(req) {
  const json = parsed(req.body);
  const headers = { ...req.headers };
  if (json !== undefined) delete headers["content-type"]; // requests sets it for json=
  const args = [`    ${JSON.stringify(req.url)}`];
  if (Object.keys(headers).length) args.push(`    headers=${py(headers, 1)}`);
  if (json !== undefined) args.push(`    json=${py(json, 1)}`);
  else if (req.body) args.push(`    data=${JSON.stringify(req.body)}`);
  const call = `requests.request(\n    ${JSON.stringify(req.method)},\n${args.join(",\n")},\n`;
  if (isStream(req.body)) {
    return [
      "import requests",
      "",
      `with ${call}    stream=True,\n) as resp:`,
      "    print(resp.status_code)",
      "    for line in resp.iter_lines(decode_unicode=True):",
      "        if line:",
      "            print(line)  # server-sent events: \"data: {...}\"",
    ].join("\n");
  }
  return ["import requests", "", `resp = ${call})`, "print(resp.status_code, resp.headers.get(\"x-mockvendor-fault\"))", "print(resp.json())"].join("\n");
}

export function javascript(req) {
  const json = parsed(req.body);
  const opts = [`  method: ${JSON.stringify(req.method)}`];
  if (Object.keys(req.headers).length) opts.push(`  headers: ${JSON.stringify(req.headers, null, 2).replace(/\n/g, "\n  ")}`);
  if (json !== undefined) opts.push(`  body: JSON.stringify(${JSON.stringify(json, null, 2).replace(/\n/g, "\n  ")})`);
  else if (req.body) opts.push(`  body: ${JSON.stringify(req.body)}`);
  const head = `const resp = await fetch(${JSON.stringify(req.url)}, {\n${opts.join(",\n")},\n});\nconsole.log(resp.status, resp.headers.get("x-mockvendor-fault"));`;
  if (isStream(req.body)) {
    return `${head}\nconst reader = resp.body.getReader();\nconst decoder = new TextDecoder();\nfor (;;) {\n  const { value, done } = await reader.read();\n  if (done) break;\n  console.log(decoder.decode(value, { stream: true })); // "data: {...}" events\n}`;
  }
  return `${head}\nconsole.log(await resp.json());`;
}

export const LANGUAGES = [
  ["curl", "curl", curl],
  ["python", "Python", python],
  ["javascript", "JavaScript", javascript],
];
