import DrophookEvents
import DrophookReceiver
import DrophookTestSupport
import Foundation

/// Runs receivers' own verification code (the reference `standardwebhooks` package from PyPI,
/// Python's `hmac`, `hashlib` and `json`) over requests a receiver recorded.
enum ReferenceVerifier {
    /// Where `packaging/dev.sh deps` puts the PyPI packages: beside the build, not in the system.
    static var pythonPackages: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path + "/.build/test-python"
    }

    /// Verifies every request in `requests`, each by the scheme its path names (`/standard`,
    /// `/github`, `/timestamped…`, `/hub`, `/rilavek`); returns Python's output, or throws with it.
    static func verify(_ requests: [ReceivedWebhook], standardSecret: String, plainSecret: String) throws -> String {
        guard FileManager.default.fileExists(atPath: pythonPackages + "/standardwebhooks") else {
            throw ChildProcessFailure("the standardwebhooks package is missing from \(pythonPackages): run packaging/dev.sh deps")
        }
        let directory = NSTemporaryDirectory() + "drophook-verify-\(UUID().uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var lines = ""
        for request in requests {
            let record = JSONValue.object([
                ("path", .string(request.path)),
                ("headers", .array(request.headers.map { .array([.string($0.name), .string($0.value)]) })),
                ("body", .string(Base64.encode(request.body))),
            ])
            lines += record.serializedString + "\n"
        }
        try lines.write(toFile: directory + "/requests.jsonl", atomically: true, encoding: .utf8)
        try script.write(toFile: directory + "/verify.py", atomically: true, encoding: .utf8)
        try javaScript.write(toFile: directory + "/verify.js", atomically: true, encoding: .utf8)
        let output = directory + "/output.txt"
        try ChildProcess.run(
            "/usr/bin/python3",
            [
                directory + "/verify.py", pythonPackages, directory + "/requests.jsonl", standardSecret, plainSecret,
            ], output: output)
        // The timestamped scheme's receivers are JavaScript: Node's JSON.stringify decides.
        try ChildProcess.run("/usr/bin/node", [directory + "/verify.js", directory + "/requests.jsonl", plainSecret], output: output)
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }

    private static let javaScript = #"""
        const crypto = require("crypto"), fs = require("fs");
        const [file, secret] = process.argv.slice(2);
        const sortKeys = v => Array.isArray(v) ? v.map(sortKeys)
            : v !== null && typeof v === "object" ? Object.keys(v).sort().reduce((o, k) => (o[k] = sortKeys(v[k]), o), {})
            : v;
        let count = 0;
        for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
            const request = JSON.parse(line);
            if (!request.path.startsWith("/timestamped")) continue;
            const headers = Object.fromEntries(request.headers.map(([n, v]) => [n.toLowerCase(), v]));
            const body = Buffer.from(request.body, "base64").toString("utf8");
            const payload = headers["x-timestamp"] + "." + JSON.stringify(sortKeys(JSON.parse(body)));
            const expected = crypto.createHmac("sha256", secret).update(payload).digest("hex");
            if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(headers["x-signature"]))) {
                console.log("node: signature mismatch for " + request.path); process.exit(1);
            }
            count += 1;
        }
        console.log("node timestamped " + count);
        """#

    private static let script = #"""
        import base64, hashlib, hmac, json, sys, time
        from urllib.parse import unquote
        sys.path.insert(0, sys.argv[1])
        from standardwebhooks.webhooks import Webhook
        from cloudevents.http import from_http

        standard_secret, plain = sys.argv[3], sys.argv[4].encode()
        counts = {}
        for line in open(sys.argv[2], encoding="utf-8"):
            request = json.loads(line)
            body = base64.b64decode(request["body"])
            headers = {name.lower(): value for name, value in request["headers"]}
            scheme = request["path"].strip("/").split("-")[0]
            if scheme == "standard":
                # The reference library, unchanged: raises unless a signature and the timestamp hold.
                Webhook(standard_secret).verify(body, headers)
            elif scheme == "cloudevents":
                # The CloudEvents SDK reads either mode; the Standard Webhooks signature covers the body.
                event = from_http(headers, body)
                assert event["specversion"] == "1.0" and event["type"].startswith("io.drophook."), request["path"]
                # The HTTP binding percent-encodes ce-* values; this SDK hands them over as sent.
                subject = unquote(event["subject"]) if "ce-subject" in headers else event["subject"]
                assert event["source"].startswith("drophook://") and subject == event.data["path"], request["path"]
                assert event["id"] == event.data["id"], request["path"]
                Webhook(standard_secret).verify(body, headers)
            elif scheme == "github":
                expected = "sha256=" + hmac.new(plain, body, hashlib.sha256).hexdigest()
                assert hmac.compare_digest(expected, headers["x-hub-signature-256"]), request["path"]
            elif scheme == "hub":
                expected = base64.b64encode(hmac.new(plain, body, hashlib.sha256).digest()).decode()
                assert hmac.compare_digest(expected, headers["x-hub-signature"]), request["path"]
            elif scheme == "rilavek":
                expected = hmac.new(plain, body, hashlib.sha256).hexdigest()
                assert hmac.compare_digest(expected, headers["x-rilavek-signature"]), request["path"]
            elif scheme == "timestamped":
                # As its receivers do: parse, sort keys recursively, stringify compactly with
                # non-ASCII as itself, then HMAC timestamp + "." + that text.
                stamp = headers["x-timestamp"]
                canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                expected = hmac.new(plain, (stamp + "." + canonical).encode(), hashlib.sha256).hexdigest()
                assert hmac.compare_digest(expected, headers["x-signature"]), request["path"]
                assert abs(time.time() - int(stamp)) < 300, "timestamp outside the 5-minute window"
            else:
                raise SystemExit("unknown scheme in " + request["path"])
            counts[request["path"]] = counts.get(request["path"], 0) + 1
        for path in sorted(counts):
            print(path, counts[path])
        """#
}
