/// Did-you-mean suggestions for misspelt names.
public enum Suggest {
    /// The candidate closest to `word` by edit distance, if it is close enough to
    /// be a typo: at most 2 edits, and fewer than half the word's length.
    /// Transposed neighbours (`instance_incremnet`) count as one edit.
    public static func closest<Candidates: Sequence>(to word: String, among candidates: Candidates) -> String?
    where Candidates.Element == String {
        let limit = min(2, max(1, word.count / 2))
        let x = Array(word.unicodeScalars)
        // One set of rows for every candidate: no allocation per candidate.
        var y: [Unicode.Scalar] = []
        var rows: [Int] = []
        var best: (String, Int)?
        for candidate in candidates where candidate != word {
            // A UTF-8 length already more than `limit` short of the word rules it out
            // (a string has at most as many scalars as bytes).
            if candidate.utf8.count < x.count - limit { continue }
            y.removeAll(keepingCapacity: true)
            y.append(contentsOf: candidate.unicodeScalars)
            let d = bounded(x, y, limit: limit, rows: &rows)
            if d <= limit, best == nil || d < best!.1 { best = (candidate, d) }
        }
        return best?.0
    }

    /// ``distance(_:_:limit:)`` over scalars, for `limit` small: only the
    /// diagonal band `|i - j| <= limit` is computed (a cell outside it is more
    /// than `limit` edits), values are capped at `limit + 1`, the three rows live
    /// in `rows` (reused from call to call), and the search stops as soon as two
    /// consecutive rows exceed `limit`: each cell grows from the two rows above
    /// it, so no later row can come back under it.
    private static func bounded(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar], limit: Int, rows: inout [Int]) -> Int {
        let cap = limit + 1
        if abs(x.count - y.count) > limit { return cap }
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        let width = y.count + 2  // one spare column past the end, always `cap`
        if rows.count < 3 * width { rows = [Int](repeating: 0, count: 3 * width) }
        return rows.withUnsafeMutableBufferPointer { cells -> Int in
            // Offsets of rows i-2, i-1 and i; rotated after each row.
            var (before, previous, current) = (2 * width, 0, width)
            for j in 0..<width { cells[previous + j] = min(j, cap) }
            var previousMin = 0
            for i in 1...x.count {
                let low = max(1, i - limit), high = min(y.count, i + limit)
                cells[current] = min(i, cap)
                if low > 1 { cells[current + low - 1] = cap }
                cells[current + high + 1] = cap
                var rowMin = cells[current]
                for j in low...high {
                    let cost = x[i - 1] == y[j - 1] ? 0 : 1
                    var value = min(cells[previous + j] + 1, cells[current + j - 1] + 1, cells[previous + j - 1] + cost)
                    if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                        value = min(value, cells[before + j - 2] + 1)
                    }
                    value = min(value, cap)
                    cells[current + j] = value
                    rowMin = min(rowMin, value)
                }
                if rowMin > limit && previousMin > limit { return cap }
                previousMin = rowMin
                (before, previous, current) = (previous, current, before)
            }
            return cells[previous + y.count]
        }
    }

    /// Optimal-string-alignment distance between `a` and `b`; anything past
    /// `limit` is reported as `limit + 1`.
    public static func distance(_ a: String, _ b: String, limit: Int = .max) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if abs(x.count - y.count) > limit { return limit == .max ? limit : limit + 1 }
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}

/// The did-you-mean of ``PortManagerError/unknownService(_:suggestion:)``:
/// either a fixed answer, or the search for the service name closest to a
/// word, run only when ``value`` is read (each time it is read). A miss thus
/// costs no more than a hit until its message is asked for.
///
/// Two are equal when their values are: `.unknownService("kafak", suggestion:
/// "kafka")` equals the error a registry with a `kafka` service throws.
public struct DidYouMean: Sendable, Hashable, CustomStringConvertible,
                          ExpressibleByStringLiteral, ExpressibleByNilLiteral {
    private enum Source: Sendable {
        case fixed(String?)
        case closestService(to: String, among: [ServiceDefinition])
        case closestName(to: String, in: NameIndex)
    }

    private let source: Source

    /// A fixed suggestion, or none.
    public init(_ suggestion: String?) { source = .fixed(suggestion) }

    public init(stringLiteral value: String) { source = .fixed(value) }

    public init(nilLiteral: ()) { source = .fixed(nil) }

    /// The name in `services` closest to `word` (``Suggest/closest(to:among:)``),
    /// searched for when ``value`` is read. Holds `services` (a reference) until then.
    public static func closestService(to word: String, among services: [ServiceDefinition]) -> DidYouMean {
        DidYouMean(source: .closestService(to: word, among: services))
    }

    /// The name in `index` closest to `word` (``NameIndex/closest(to:)``, the
    /// same answer as ``Suggest/closest(to:among:)``), searched for when
    /// ``value`` is read.
    package static func closestName(to word: String, in index: NameIndex) -> DidYouMean {
        DidYouMean(source: .closestName(to: word, in: index))
    }

    private init(source: Source) { self.source = source }

    /// The suggestion, or nil for none. Searches the candidates when deferred.
    public var value: String? {
        switch source {
        case .fixed(let suggestion):
            return suggestion
        case .closestService(let word, let services):
            return Suggest.closest(to: word, among: services.lazy.map(\.name))
        case .closestName(let word, let index):
            return index.closest(to: word)
        }
    }

    /// True when the suggestion is a search that runs only when ``value`` is read.
    public var isDeferred: Bool {
        switch source {
        case .fixed: return false
        case .closestService, .closestName: return true
        }
    }

    public static func == (lhs: DidYouMean, rhs: DidYouMean) -> Bool { lhs.value == rhs.value }

    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    /// The suggestion, or `none`.
    public var description: String { value ?? "none" }
}
