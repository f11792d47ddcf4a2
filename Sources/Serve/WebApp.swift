// The web app's page and styles. The script is in WebApp+Script.swift. Everything the store holds reaches the page
// as text (textContent), never as markup.

/// The files of the web app, served as they are.
enum WebApp {
    static let indexHTML = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>smppscope</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/app.css">
        </head>
        <body>
        <header>
          <a class="brand" href="#/search">smppscope</a>
          <span id="store-name"></span>
          <nav>
            <a href="#/search" data-view="search">Search</a>
            <a href="#/sessions" data-view="sessions">Sessions</a>
            <a href="#/analyze" data-view="analyze">Analyze</a>
            <a href="#/live" data-view="live">Live</a>
          </nav>
        </header>
        <main id="main"></main>
        <div id="error" hidden></div>
        <script src="/app.js"></script>
        </body>
        </html>
        """#

    static let style = #"""
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2327; background: #f6f7f9; }
        header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #1f2a37; color: #fff; }
        header a { color: #cfd8e3; text-decoration: none; }
        header a.brand { font-weight: 700; color: #fff; font-size: 16px; }
        header nav { margin-left: auto; display: flex; gap: 14px; }
        header nav a.active { color: #fff; border-bottom: 2px solid #5aa9ff; }
        #store-name { color: #9fb0c3; font-family: ui-monospace, monospace; font-size: 12px; }
        main { padding: 16px 20px; }
        h2 { font-size: 18px; margin: 4px 0 12px; }
        form.query { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; background: #fff; padding: 12px; border: 1px solid #dde2e8; border-radius: 6px; margin-bottom: 14px; }
        form.query label { display: flex; flex-direction: column; font-size: 12px; color: #55606b; }
        form.query input, form.query select { font: inherit; padding: 4px 6px; border: 1px solid #c4ccd5; border-radius: 4px; min-width: 120px; }
        button, .button { font: inherit; padding: 5px 12px; border: 1px solid #2f6fb5; background: #2f7fd8; color: #fff; border-radius: 4px; cursor: pointer; text-decoration: none; display: inline-block; }
        button.secondary, .button.secondary { background: #fff; color: #2f6fb5; }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde2e8; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef1f4; white-space: nowrap; }
        th { background: #f0f3f6; font-weight: 600; font-size: 12px; color: #55606b; }
        tr.row { cursor: pointer; }
        tr.row:hover { background: #eef6ff; }
        td.wrap { white-space: normal; max-width: 420px; overflow-wrap: anywhere; }
        .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
        .status-error { color: #b3261e; font-weight: 600; }
        .muted { color: #6b7682; }
        .summary { display: flex; flex-wrap: wrap; gap: 6px 22px; background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 10px 14px; margin-bottom: 12px; }
        .summary div span { display: block; font-size: 11px; color: #6b7682; }
        .split { display: flex; gap: 16px; align-items: flex-start; }
        .ladder-box { flex: 1 1 auto; background: #fff; border: 1px solid #dde2e8; border-radius: 6px; overflow: auto; max-height: 78vh; }
        #fields { flex: 0 0 380px; background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 10px; max-height: 78vh; overflow: auto; }
        #fields table { border: 0; }
        #fields td { white-space: normal; overflow-wrap: anywhere; vertical-align: top; }
        svg text { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
        svg .pdu { cursor: pointer; }
        svg .pdu:hover .hit { fill: #eef6ff; }
        svg .pdu.selected .hit { fill: #dcecff; }
        svg .pdu.linked .hit { fill: #fff4d6; }
        .pager { margin: 10px 0; display: flex; gap: 10px; align-items: center; }
        #error { position: fixed; bottom: 16px; right: 16px; max-width: 520px; background: #fdecea; color: #7a1b14; border: 1px solid #f2b8b5; padding: 10px 14px; border-radius: 6px; }
        .counters { display: flex; gap: 28px; margin-bottom: 12px; }
        .counters div { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 10px 16px; }
        .counters b { display: block; font-size: 22px; }
        .chart { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; margin-bottom: 12px; }
        iframe.report { width: 100%; height: 78vh; border: 1px solid #dde2e8; border-radius: 6px; background: #fff; }
        """#
}
