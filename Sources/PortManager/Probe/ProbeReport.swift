import PortManagerCore

// How a probe answer is shown: one JSON object (the CLI's `probe --json`, the
// C `pm_probe_result_json`, Python's `ProbeResult`) and lines for people.

extension PortProbe.Answer {
    /// The answer as one JSON object, on one line:
    ///
    ///     {"port": 9092, "protocol": "tcp", "host": null, "available": false,
    ///      "verdict": "in use", "holders": [{"pid": 4242, "command": "nc", "uid": 1000,
    ///      "protocol": "tcp", "address": "0.0.0.0:9092", "container": null}], "notes": []}
    ///
    /// `available` is true, false or null (cannot tell); a holder's `pid` and
    /// `command` are null when the process is not visible to this user (or
    /// the port is published by the Docker engine's port map alone); its
    /// `container` names the Docker container behind it (``naming(_:)``), else null.
    public func json() -> String {
        var out = "{\"port\": \(port), \"protocol\": "
        JSONText.quote(request.protocols.name, into: &out)
        out += ", \"host\": "
        if let host = request.host { JSONText.quote(host.text, into: &out) } else { out += "null" }
        out += ", \"available\": " + (available.map { $0 ? "true" : "false" } ?? "null")
        out += ", \"verdict\": "
        JSONText.quote(verdict.text, into: &out)
        out += ", \"holders\": ["
        for (index, holder) in holders.enumerated() {
            if index > 0 { out += ", " }
            out += "{\"pid\": " + (holder.pid.map { String($0) } ?? "null") + ", \"command\": "
            if let command = holder.command { JSONText.quote(command, into: &out) } else { out += "null" }
            out += ", \"uid\": \(holder.uid), \"protocol\": "
            JSONText.quote(holder.protocols.name, into: &out)
            out += ", \"address\": "
            JSONText.quote(holder.address, into: &out)
            out += ", \"container\": "
            if let container = holder.container { JSONText.quote(container, into: &out) } else { out += "null" }
            out += "}"
        }
        out += "], \"notes\": ["
        for (index, note) in notes.enumerated() {
            if index > 0 { out += ", " }
            JSONText.quote(note, into: &out)
        }
        return out + "]}"
    }

    /// `port 9092/tcp on 0.0.0.0 and [::]` or `port 9192/udp on 127.0.0.1`.
    public var subject: String {
        "port \(port)/\(request.protocols.name) on " + (request.host.map(\.text) ?? "0.0.0.0 and [::]")
    }

    /// Lines for people: the verdict, each holder, each note.
    public var lines: [String] {
        var result = ["\(subject): \(verdict.text)"]
        result += holders.map { "  held by \($0.description)" }
        if verdict == .inUse && holders.isEmpty {
            result.append("  held by a socket /proc/net does not list (a TCP socket bound but not listening, or a connection in TIME_WAIT from a server without SO_REUSEADDR)")
        }
        result += notes.map { "  note: \($0)" }
        return result
    }
}
