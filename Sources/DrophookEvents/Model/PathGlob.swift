/// A glob over a path relative to a watch root: `*` and `?` match within one segment (never a
/// `/`), `[abc]`, `[a-z]` and `[!x]` match one character of a class, and a `**` segment matches
/// any number of whole segments, none included (so `alice/**` matches `alice` itself and
/// everything under it). Matching is by Unicode scalars, so an escaped name (``PathBytes``)
/// matches as the text it is shown as.
public struct PathGlob: Sendable, Hashable, CustomStringConvertible {
    /// A glob that cannot be read.
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private enum Segment: Hashable {
        case anyDepth
        case pattern([Token])
    }

    private enum Token: Hashable {
        case literal(Unicode.Scalar)
        case anyOne
        case anyRun
        case set([ClosedRange<Unicode.Scalar>], negated: Bool)
    }

    public let description: String
    private let segments: [Segment]

    public init(_ text: String) throws(SyntaxError) {
        guard !text.isEmpty else {
            throw SyntaxError(description: "an empty glob matches nothing; write a path pattern such as alice/invoices/**")
        }
        guard !text.hasPrefix("/") else {
            throw SyntaxError(
                description: "'\(text)' starts with '/'; globs are relative to the watch root (write \(text.drop { $0 == "/" }))")
        }
        description = text
        var segments: [Segment] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "**" {
                if segments.last != .anyDepth { segments.append(.anyDepth) }
            } else {
                segments.append(.pattern(try Self.tokens(part, in: text)))
            }
        }
        self.segments = segments
    }

    /// Whether `path` (relative to the watch root, `/`-separated) matches.
    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.unicodeScalars) }
        return Self.match(segments[...], parts[...])
    }

    private static func match(_ segments: ArraySlice<Segment>, _ parts: ArraySlice<[Unicode.Scalar]>) -> Bool {
        guard let first = segments.first else { return parts.isEmpty }
        switch first {
        case .anyDepth:
            // Zero or more whole segments.
            var rest = parts
            while true {
                if match(segments.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case .pattern(let tokens):
            guard let part = parts.first, matchSegment(tokens[...], part[...]) else { return false }
            return match(segments.dropFirst(), parts.dropFirst())
        }
    }

    private static func matchSegment(_ tokens: ArraySlice<Token>, _ scalars: ArraySlice<Unicode.Scalar>) -> Bool {
        guard let token = tokens.first else { return scalars.isEmpty }
        switch token {
        case .anyRun:
            var rest = scalars
            while true {
                if matchSegment(tokens.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case .anyOne:
            return !scalars.isEmpty && matchSegment(tokens.dropFirst(), scalars.dropFirst())
        case .literal(let scalar):
            return scalars.first == scalar && matchSegment(tokens.dropFirst(), scalars.dropFirst())
        case .set(let ranges, let negated):
            guard let scalar = scalars.first, ranges.contains(where: { $0.contains(scalar) }) != negated else { return false }
            return matchSegment(tokens.dropFirst(), scalars.dropFirst())
        }
    }

    private static func tokens(_ part: Substring, in text: String) throws(SyntaxError) -> [Token] {
        var tokens: [Token] = []
        var scalars = part.unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            switch scalar {
            case "*":
                if tokens.last != .anyRun { tokens.append(.anyRun) }
            case "?":
                tokens.append(.anyOne)
            case "[":
                var negated = false
                if scalars.first == "!" || scalars.first == "^" {
                    negated = true
                    scalars = scalars.dropFirst()
                }
                var ranges: [ClosedRange<Unicode.Scalar>] = []
                var closed = false
                var firstInSet = true
                while let member = scalars.popFirst() {
                    if member == "]", !firstInSet {
                        closed = true
                        break
                    }
                    firstInSet = false
                    if scalars.first == "-", scalars.count >= 2, scalars[scalars.index(after: scalars.startIndex)] != "]" {
                        scalars = scalars.dropFirst()
                        let upper = scalars.popFirst()!
                        guard member <= upper else {
                            throw SyntaxError(description: "'\(text)': the range \(member)-\(upper) runs backwards; write it low to high")
                        }
                        ranges.append(member...upper)
                    } else {
                        ranges.append(member...member)
                    }
                }
                guard closed else {
                    throw SyntaxError(
                        description:
                            "'\(text)': a '[' is never closed; close the class with ']' or escape nothing (write [[] for a literal '[')")
                }
                tokens.append(.set(ranges, negated: negated))
            default:
                tokens.append(.literal(scalar))
            }
        }
        return tokens
    }
}
