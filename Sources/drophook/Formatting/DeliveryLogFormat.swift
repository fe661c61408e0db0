import DrophookDelivery
import DrophookEvents
import DrophookOutbox
import Foundation

/// How the delivery log reads on a terminal. Everything a partner or a receiver chose (paths,
/// headers, bodies, error texts) goes through ``TerminalText``: a newline in a name cannot
/// split a row, an escape sequence cannot reach the terminal.
enum DeliveryLogFormat {
    static let header =
        "CREATED                  STATE       TRIES  STATUS  WEBHOOK       TOPIC          EVENT                                 PATH"

    static func line(_ row: DeliverySummary) -> String {
        // A webhook's HTTP status; a stream's sequence (`#42`) where it acknowledged the event.
        let status = row.lastStatus.map(String.init) ?? row.lastSequence.map { "#\($0)" } ?? (row.lastError == nil ? "-" : "error")
        return [
            timestamp(row.createdAtMillis).padding(24),
            row.state.rawValue.padding(11),
            String(row.attemptCount).padding(6),
            status.padding(7),
            TerminalText.escaped(row.endpoint).padding(13),
            row.topic.rawValue.padding(14),
            row.eventID.padding(37),
            TerminalText.escaped("\(row.watch):\(PathBytes.payloadText(row.path).text)"),
        ].joined(separator: " ")
    }

    /// Every detail of one attempt, as a block, in its destination's terms: a webhook's POST
    /// and HTTP answer, or a publish on a stream's subject and the stream's acknowledgement.
    static func detail(_ attempt: AttemptRecord) -> String {
        let answer =
            if let status = attempt.responseStatus {
                "  HTTP \(status)"
            } else if let acknowledgement = attempt.acknowledgement {
                "  acknowledged by the \(TerminalText.escaped(acknowledgement.description))"
            } else {
                ""
            }
        let request =
            switch attempt.target {
            case .url(let url): "  request   POST \(TerminalText.escaped(url))"
            case .subject(let subject): "  request   PUBLISH \(TerminalText.escaped(subject))"
            }
        var lines = [
            "attempt \(attempt.number)  \(attempt.id)",
            "  delivery  \(attempt.deliveryID)",
            "  started   \(timestamp(attempt.startedAtMillis))  (\(attempt.durationMillis) ms)",
            "  result    \(attempt.result.rawValue)\(answer)\(attempt.error.map { "  \(TerminalText.escaped($0))" } ?? "")",
            request,
        ]
        lines += attempt.requestHeaders.map { "    \(TerminalText.escaped($0.name)): \(TerminalText.escaped($0.value))" }
        lines.append("    " + TerminalText.escaped(String(decoding: attempt.requestBody, as: UTF8.self), backslashes: false))
        if attempt.responseStatus != nil {
            lines.append("  response")
            lines += attempt.responseHeaders.map { "    \(TerminalText.escaped($0.name)): \(TerminalText.escaped($0.value))" }
            let body = TerminalText.escaped(String(decoding: attempt.responseBody, as: UTF8.self), backslashes: false)
            if !body.isEmpty { lines.append("    " + body + (attempt.responseTruncated ? " …(truncated)" : "")) }
        }
        return lines.joined(separator: "\n")
    }

    static func timestamp(_ millis: Int64) -> String {
        ISO8601Timestamp.string(fromMillis: millis)
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
