// Inline SVG charts for the HTML report: time series (lines, bars, marks, a limit line) and bar histograms.

/// Escapes text for HTML and SVG.
func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

/// Draws simple charts as SVG strings, sized by a viewBox so they scale with the page.
struct SVGChart {
    static let width = 900.0
    static let height = 260.0
    static let left = 56.0
    static let right = 16.0
    static let top = 16.0
    static let bottom = 40.0

    /// A series drawn over time.
    struct Series {
        enum Style {
            case line
            case bars
            /// Small marks at non-zero values, drawn at the top of the chart.
            case marks
        }

        var name: String
        var values: [Double]
        var color: String
        var style: Style
    }

    /// A chart of series with a point every `step` seconds from `start` (epoch seconds), with an optional
    /// horizontal line.
    static func timeSeries(
        title: String, yLabel: String, start: Double, step pointStep: Double, series: [Series],
        horizontal: (value: Double, label: String)? = nil
    ) -> String {
        let count = series.map(\.values.count).max() ?? 0
        guard count > 0 else { return "<p class=\"empty\">\(escapeHTML(title)): nothing to show.</p>" }
        // At most ~600 columns: each keeps the maximum of the seconds it covers.
        let step = max(1, (count + 599) / 600)
        let columns = (count + step - 1) / step
        func reduced(_ values: [Double]) -> [Double] {
            (0..<columns).map { column in
                let slice = values[min(values.count, column * step)..<min(values.count, (column + 1) * step)]
                return slice.max() ?? 0
            }
        }
        let reducedSeries = series.map {
            Series(name: $0.name, values: reduced($0.values), color: $0.color, style: $0.style)
        }
        var maximum = reducedSeries.filter { $0.style != .marks }.flatMap(\.values).max() ?? 0
        if let horizontal { maximum = max(maximum, horizontal.value) }
        let yMax = niceCeiling(max(maximum, 1))
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let columnWidth = plotWidth / Double(columns)
        func x(_ column: Int) -> Double { left + Double(column) * columnWidth }
        func y(_ value: Double) -> Double { top + plotHeight - value / yMax * plotHeight }

        var svg = header(title: title)
        svg += axes(yMax: yMax, yLabel: yLabel)
        // Time ticks, on whole seconds.
        let totalSeconds = Double(count) * pointStep
        let tickEvery = max(1, niceCeiling(totalSeconds / 8))
        var tick = (start / tickEvery).rounded(.up) * tickEvery - start
        while tick <= totalSeconds {
            let px = left + tick / totalSeconds * plotWidth
            if px > width - right - 24 { break }
            svg +=
                "<line x1=\"\(f(px))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(px))\" y2=\"\(f(top + plotHeight + 4))\" stroke=\"#888\"/>"
            svg +=
                "<text x=\"\(f(px))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\" class=\"tick\">\(clock(Int64((start + tick).rounded())))</text>"
            tick += tickEvery
        }
        for item in reducedSeries {
            switch item.style {
            case .bars:
                for (column, value) in item.values.enumerated() where value > 0 {
                    svg +=
                        "<rect x=\"\(f(x(column)))\" y=\"\(f(y(value)))\" width=\"\(f(max(columnWidth - 0.5, 0.5)))\" height=\"\(f(top + plotHeight - y(value)))\" fill=\"\(item.color)\"/>"
                }
            case .line:
                let points = item.values.enumerated().map { "\(f(x($0.offset) + columnWidth / 2)),\(f(y($0.element)))" }
                svg +=
                    "<polyline fill=\"none\" stroke=\"\(item.color)\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
            case .marks:
                for (column, value) in item.values.enumerated() where value > 0 {
                    svg +=
                        "<rect x=\"\(f(x(column)))\" y=\"\(f(top))\" width=\"\(f(max(columnWidth, 2)))\" height=\"6\" fill=\"\(item.color)\"><title>\(Int(value)) at \(clock(Int64(start + Double(column * step) * pointStep)))</title></rect>"
                }
            }
        }
        if let horizontal {
            let py = y(horizontal.value)
            svg +=
                "<line x1=\"\(f(left))\" y1=\"\(f(py))\" x2=\"\(f(width - right))\" y2=\"\(f(py))\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>"
            svg +=
                "<text x=\"\(f(width - right - 4))\" y=\"\(f(py - 4))\" text-anchor=\"end\" class=\"note\">\(escapeHTML(horizontal.label))</text>"
        }
        svg += legend(series.map { ($0.name, $0.color) } + (horizontal.map { [($0.label, "#d62728")] } ?? []))
        return svg + "</svg>"
    }

    /// A bar chart of counts per bucket; `labels` name the buckets.
    static func histogram(title: String, labels: [String], counts: [Int], color: String) -> String {
        guard counts.contains(where: { $0 > 0 }) else {
            return "<p class=\"empty\">\(escapeHTML(title)): nothing to show.</p>"
        }
        let yMax = niceCeiling(Double(counts.max() ?? 1))
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let barWidth = plotWidth / Double(counts.count)
        var svg = header(title: title)
        svg += axes(yMax: yMax, yLabel: "count")
        for (index, count) in counts.enumerated() {
            let barHeight = Double(count) / yMax * plotHeight
            let x = left + Double(index) * barWidth
            svg +=
                "<rect x=\"\(f(x + 2))\" y=\"\(f(top + plotHeight - barHeight))\" width=\"\(f(barWidth - 4))\" height=\"\(f(barHeight))\" fill=\"\(color)\"><title>\(escapeHTML(labels[index])): \(count)</title></rect>"
            svg +=
                "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\" class=\"tick\">\(escapeHTML(labels[index]))</text>"
            if count > 0 {
                svg +=
                    "<text x=\"\(f(x + barWidth / 2))\" y=\"\(f(top + plotHeight - barHeight - 4))\" text-anchor=\"middle\" class=\"note\">\(count)</text>"
            }
        }
        return svg + "</svg>"
    }

    private static func header(title: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escapeHTML(title))\" xmlns=\"http://www.w3.org/2000/svg\"><title>\(escapeHTML(title))</title>"
    }

    private static func axes(yMax: Double, yLabel: String) -> String {
        let plotHeight = height - top - bottom
        var svg = ""
        for index in 0...4 {
            let value = yMax * Double(index) / 4
            let py = top + plotHeight - Double(index) / 4 * plotHeight
            svg +=
                "<line x1=\"\(f(left))\" y1=\"\(f(py))\" x2=\"\(f(width - right))\" y2=\"\(f(py))\" stroke=\"#e4e4e4\"/>"
            svg +=
                "<text x=\"\(f(left - 6))\" y=\"\(f(py + 4))\" text-anchor=\"end\" class=\"tick\">\(label(value))</text>"
        }
        svg +=
            "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" stroke=\"#888\"/>"
        svg +=
            "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(width - right))\" y2=\"\(f(top + plotHeight))\" stroke=\"#888\"/>"
        svg +=
            "<text x=\"12\" y=\"\(f(top + plotHeight / 2))\" transform=\"rotate(-90 12 \(f(top + plotHeight / 2)))\" text-anchor=\"middle\" class=\"tick\">\(escapeHTML(yLabel))</text>"
        return svg
    }

    private static func legend(_ entries: [(String, String)]) -> String {
        var svg = ""
        var x = left + 8
        for (name, color) in entries {
            svg += "<rect x=\"\(f(x))\" y=\"\(f(height - 14))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(f(x + 14))\" y=\"\(f(height - 5))\" class=\"tick\">\(escapeHTML(name))</text>"
            x += 24 + Double(name.count) * 6.5
        }
        return svg
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        var power = 1.0
        while power * 10 <= value { power *= 10 }
        while power > value { power /= 10 }
        for factor in [1.0, 2.0, 5.0, 10.0] where factor * power >= value { return factor * power }
        return 10 * power
    }

    private static func label(_ value: Double) -> String {
        if value >= 1_000_000 { return formatFixed(value / 1_000_000, decimals: 1) + "M" }
        if value >= 10_000 { return String(Int(value / 1_000)) + "k" }
        return value == value.rounded() ? String(Int(value)) : formatFixed(value, decimals: 1)
    }

    /// "08:34:06" (UTC) of an epoch second.
    static func clock(_ second: Int64) -> String {
        let day = ((second % 86_400) + 86_400) % 86_400
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(day / 3_600)):\(two(day % 3_600 / 60)):\(two(day % 60))"
    }

    private static func f(_ value: Double) -> String { formatFixed(value, decimals: 1) }
}
