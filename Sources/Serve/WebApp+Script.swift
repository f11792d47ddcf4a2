// The web app's script: views for search, sessions, one session's ladder diagram, one message's life, analysis,
// and the live store, over the JSON API. Text from the store is only ever set as textContent.

extension WebApp {
    static let script = #"""
        'use strict';
        const main = document.getElementById('main');
        const COMMANDS = ['bind_receiver', 'bind_transmitter', 'bind_transceiver', 'bind_receiver_resp',
          'bind_transmitter_resp', 'bind_transceiver_resp', 'submit_sm', 'submit_sm_resp', 'deliver_sm',
          'deliver_sm_resp', 'data_sm', 'data_sm_resp', 'query_sm', 'query_sm_resp', 'cancel_sm', 'cancel_sm_resp',
          'replace_sm', 'replace_sm_resp', 'submit_multi', 'submit_multi_resp', 'enquire_link', 'enquire_link_resp',
          'unbind', 'unbind_resp', 'generic_nack', 'outbind', 'alert_notification'];
        let cleanup = null;

        function el(tag, attrs, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attrs || {})) {
            if (value === null || value === undefined || value === false) continue;
            if (key === 'onclick' || key === 'onsubmit') node[key] = value; else node.setAttribute(key, value);
          }
          for (const child of children) {
            if (child === null || child === undefined) continue;
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          }
          return node;
        }
        function svg(tag, attrs, text) {
          const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
          for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
          if (text !== undefined) node.textContent = text;
          return node;
        }
        async function api(path) {
          const response = await fetch(path, { headers: { Accept: 'application/json' } });
          const body = await response.json();
          if (!response.ok) {
            const error = body.error || {};
            throw new Error((error.reason || response.status) + (error.hint ? ' (' + error.hint + ')' : ''));
          }
          return body;
        }
        function showError(error) {
          const box = document.getElementById('error');
          box.textContent = String(error && error.message ? error.message : error);
          box.hidden = false;
          clearTimeout(showError.timer);
          showError.timer = setTimeout(() => { box.hidden = true; }, 10000);
        }
        function when(ts) {
          if (ts === null || ts === undefined) return '';
          const date = new Date(Math.floor(ts * 1000));
          const micro = String(Math.floor(ts * 1e6) % 1000).padStart(3, '0');
          return date.toISOString().replace('T', ' ').replace('Z', '') + micro;
        }
        function clock(ts) { return when(ts).slice(11); }
        function params(search) {
          const result = {};
          for (const [key, value] of new URLSearchParams(search || '')) if (value !== '') result[key] = value;
          return result;
        }
        function query(object) {
          const search = new URLSearchParams();
          for (const [key, value] of Object.entries(object)) if (value !== '' && value !== undefined && value !== null) search.set(key, value);
          return search.toString();
        }
        function isError(pdu) { return pdu.command_status !== 0; }
        function isReceipt(pdu) { return !!pdu.receipt; }
        function messageIdOf(pdu) { return pdu.message_id || (pdu.receipt && pdu.receipt.id) || ''; }
        function describe(pdu) {
          if (pdu.receipt) return 'receipt ' + (pdu.receipt.stat || '') + ' id ' + (pdu.receipt.id || '');
          if (pdu.text !== undefined) return pdu.text;
          if (pdu.system_id !== undefined) return 'system_id ' + pdu.system_id;
          return '';
        }

        // Views
        function route() {
          if (cleanup) { cleanup(); cleanup = null; }
          const hash = location.hash.replace(/^#/, '') || '/search';
          const [path, search] = hash.split('?');
          const parts = path.split('/').filter(Boolean);
          const view = parts[0] || 'search';
          for (const link of document.querySelectorAll('header nav a')) link.classList.toggle('active', link.dataset.view === view || (view === 'session' && link.dataset.view === 'sessions'));
          main.replaceChildren();
          const run = {
            search: () => searchView(params(search)),
            sessions: () => sessionsView(params(search)),
            session: () => sessionView(parts[1], params(search)),
            message: () => messageView(decodeURIComponent(parts.slice(1).join('/'))),
            analyze: () => analyzeView(params(search)),
            live: () => liveView(),
          }[view] || (() => searchView({}));
          Promise.resolve(run()).catch(showError);
        }

        function queryForm(id, fields, values, target) {
          const form = el('form', { class: 'query', id });
          for (const [name, label, kind] of fields) {
            let input;
            if (kind === 'command') {
              input = el('select', { name }, el('option', { value: '' }, 'any'), ...COMMANDS.map(c => el('option', { value: c }, c)));
              input.value = values[name] || '';
            } else {
              input = el('input', { name, value: values[name] || '', placeholder: kind || '' });
            }
            form.append(el('label', {}, label, input));
          }
          form.append(el('button', { type: 'submit' }, 'Search'));
          form.onsubmit = (event) => {
            event.preventDefault();
            const chosen = {};
            for (const [name] of fields) chosen[name] = form.elements[name].value.trim();
            location.hash = target + '?' + query(chosen);
          };
          return form;
        }

        const SEARCH_FIELDS = [['message_id', 'Message id', 'any spelling'], ['address', 'Address', 'msisdn'],
          ['system_id', 'System id', 'login'], ['command', 'Command', 'command'], ['status', 'Status', 'ESME_RTHROTTLED'],
          ['state', 'Receipt state', 'DELIVRD'], ['from', 'From', '2026-11-26T08:00:00'], ['to', 'To', 'epoch or ISO']];

        async function searchView(values) {
          main.append(el('h2', {}, 'Search PDUs'), queryForm('search-form', SEARCH_FIELDS, values, '#/search'));
          if (Object.keys(values).filter(k => k !== 'cursor').length === 0) {
            main.append(el('p', { class: 'muted' }, 'Find a message by its id (hex or decimal, any case), a number, a login, a status or a receipt state, in a time range.'));
            return;
          }
          if (values.message_id) main.append(el('p', {}, el('a', { href: '#/message/' + encodeURIComponent(values.message_id), id: 'follow-message' }, 'Follow message ' + values.message_id + ' →')));
          const page = await api('/api/pdus?' + query(values));
          const table = el('table', { id: 'search-results' }, el('tr', {}, ...['Time', 'Session', 'From', 'To', 'Command', 'Seq', 'Status', 'Message id', 'Content'].map(h => el('th', {}, h))));
          for (const pdu of page.pdus) {
            const row = el('tr', { class: 'row pdu-row', 'data-ref': pdu.ref },
              el('td', { class: 'mono' }, when(pdu.ts)), el('td', {}, pdu.session), el('td', { class: 'mono' }, pdu.src), el('td', { class: 'mono' }, pdu.dst),
              el('td', {}, pdu.command), el('td', {}, pdu.sequence_number),
              el('td', { class: isError(pdu) ? 'status-error' : '' }, pdu.command_status_name),
              el('td', { class: 'mono' }, messageIdOf(pdu)), el('td', { class: 'wrap' }, describe(pdu)));
            row.onclick = () => { location.hash = '#/session/' + pdu.session + '?' + query({ from: pdu.ts.toFixed(6), at: pdu.ref }); };
            table.append(row);
          }
          main.append(el('p', { id: 'result-count', class: 'muted' }, page.pdus.length + ' PDUs' + (page.next_cursor ? ' (more follow)' : '') + ', ' + page.scanned + ' read'), table);
          if (page.next_cursor) {
            main.append(el('div', { class: 'pager' }, el('a', { class: 'button secondary', id: 'next-page', href: '#/search?' + query(Object.assign({}, values, { cursor: page.next_cursor })) }, 'Next page')));
          }
        }

        async function sessionsView(values) {
          main.append(el('h2', {}, 'Sessions'), queryForm('sessions-form', [['system_id', 'System id', 'login'], ['source', 'Source', 'id'], ['from', 'From', 'time'], ['to', 'To', 'time']], values, '#/sessions'));
          const page = await api('/api/sessions?' + query(Object.assign({ order: 'desc', limit: 100 }, values)));
          main.append(sessionTable(page.sessions));
          if (page.next_cursor) main.append(el('div', { class: 'pager' }, el('a', { class: 'button secondary', href: '#/sessions?' + query(Object.assign({}, values, { cursor: page.next_cursor })) }, 'Older sessions')));
        }

        function sessionTable(sessions) {
          const table = el('table', { id: 'session-list' }, el('tr', {}, ...['Id', 'Source', 'ESME', 'SMSC', 'System id', 'Bind', 'Started', 'Ended', 'End', 'PDUs'].map(h => el('th', {}, h))));
          for (const s of sessions) {
            const row = el('tr', { class: 'row session-row', 'data-session': s.id },
              el('td', {}, s.id), el('td', {}, s.source_id), el('td', { class: 'mono' }, s.esme), el('td', { class: 'mono' }, s.smsc),
              el('td', {}, s.system_id || ''), el('td', { class: s.bind_status && s.bind_status !== 'ESME_ROK' ? 'status-error' : '' }, (s.bind || '') + (s.bind_status && s.bind_status !== 'ESME_ROK' ? ' ' + s.bind_status : '')),
              el('td', { class: 'mono' }, when(s.started)), el('td', { class: 'mono' }, when(s.ended)), el('td', {}, s.end_kind || ''), el('td', {}, s.pdus));
            row.onclick = () => { location.hash = '#/session/' + s.id; };
            table.append(row);
          }
          return table;
        }

        async function sessionView(id, values) {
          const wanted = Object.assign({}, values);
          delete wanted.at;
          const page = await api('/api/sessions/' + encodeURIComponent(id) + '?' + query(wanted));
          const s = page.session;
          main.append(el('h2', {}, 'Session ' + s.id + (s.system_id ? ' — ' + s.system_id : '')));
          const item = (label, value) => el('div', {}, el('span', {}, label), value === null || value === undefined || value === '' ? '—' : String(value));
          main.append(el('div', { class: 'summary', id: 'session-summary' }, item('ESME', s.esme), item('SMSC', s.smsc), item('System id', s.system_id),
            item('System type', s.system_type), item('Bind', (s.bind || '') + ' ' + (s.bind_status || '')), item('Started', when(s.started)),
            item('Ended', s.ended ? when(s.ended) + ' (' + (s.end_kind || '') + ')' : 'open'), item('PDUs', s.pdus), item('Source', s.source_id)));
          const actions = el('div', { class: 'pager' },
            el('a', { class: 'button', id: 'download-pcap', href: '/api/sessions/' + s.id + '/pcap', download: 'session-' + s.id + '.pcap' }, 'Download pcap'),
            el('a', { class: 'button secondary', href: '#/analyze?' + query({ session: s.id }) }, 'Analyze this session'));
          if (values.from || values.cursor) actions.append(el('a', { class: 'button secondary', href: '#/session/' + s.id }, 'From the start'));
          main.append(actions);
          const fields = el('div', { id: 'fields' }, el('p', { class: 'muted' }, 'Click a PDU to see its fields.'));
          main.append(el('div', { class: 'split' }, el('div', { class: 'ladder-box' }, ladder(page.pdus, (pdu) => pdu.from_esme !== null ? pdu.from_esme : pdu.src === s.esme, 'ESME ' + s.esme, 'SMSC ' + s.smsc, fields, values.at)), fields));
          main.append(el('p', { class: 'muted', id: 'pdu-count' }, page.pdus.length + ' PDUs shown' + (page.next_cursor ? '; more follow' : '')));
          if (page.next_cursor) main.append(el('div', { class: 'pager' }, el('a', { class: 'button secondary', id: 'next-page', href: '#/session/' + s.id + '?' + query({ cursor: page.next_cursor }) }, 'Next PDUs')));
        }

        // A ladder (sequence) diagram: ESME on the left, SMSC on the right, one arrow per PDU in order.
        function ladder(pdus, fromEsme, leftLabel, rightLabel, fields, selectRef) {
          const left = 250, right = 690, top = 56, step = 28, width = 900;
          const height = top + pdus.length * step + 20;
          const root = svg('svg', { id: 'ladder', width, height, viewBox: '0 0 ' + width + ' ' + height });
          const defs = svg('defs');
          for (const [name, color] of [['req', '#2f7fd8'], ['resp', '#2e7d32'], ['err', '#b3261e'], ['rcpt', '#7b3fb0']]) {
            const marker = svg('marker', { id: 'arrow-' + name, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
            marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: color }));
            defs.append(marker);
          }
          root.append(defs);
          root.append(svg('text', { x: left, y: 20, 'text-anchor': 'middle', 'font-weight': 'bold' }, leftLabel));
          root.append(svg('text', { x: right, y: 20, 'text-anchor': 'middle', 'font-weight': 'bold' }, rightLabel));
          root.append(svg('line', { x1: left, y1: 30, x2: left, y2: height - 10, stroke: '#9aa5b1', 'stroke-width': 2 }));
          root.append(svg('line', { x1: right, y1: 30, x2: right, y2: height - 10, stroke: '#9aa5b1', 'stroke-width': 2 }));
          const byRef = new Map(pdus.map(p => [p.ref, p]));
          const linked = new Map();
          const link = (a, b) => { if (!linked.has(a)) linked.set(a, []); linked.get(a).push(b); if (!linked.has(b)) linked.set(b, []); linked.get(b).push(a); };
          for (const pdu of pdus) {
            if (pdu.request && byRef.has(pdu.request)) link(pdu.ref, pdu.request);
            if (pdu.receipt_for && byRef.has(pdu.receipt_for)) link(pdu.ref, pdu.receipt_for);
          }
          const groups = new Map();
          const select = (ref) => {
            for (const group of groups.values()) group.classList.remove('selected', 'linked');
            const group = groups.get(ref);
            if (!group) return;
            group.classList.add('selected');
            for (const other of linked.get(ref) || []) if (groups.has(other)) groups.get(other).classList.add('linked');
            showFields(fields, byRef.get(ref), byRef);
          };
          pdus.forEach((pdu, index) => {
            const y = top + index * step;
            const esmeSends = fromEsme(pdu);
            const kind = isError(pdu) ? 'err' : isReceipt(pdu) ? 'rcpt' : pdu.command_id >= 0x80000000 ? 'resp' : 'req';
            const color = { req: '#2f7fd8', resp: '#2e7d32', err: '#b3261e', rcpt: '#7b3fb0' }[kind];
            const group = svg('g', { class: 'pdu', 'data-ref': pdu.ref, 'data-index': index, 'data-command': pdu.command });
            group.append(svg('rect', { class: 'hit', x: 0, y: y - step / 2 - 2, width, height: step, fill: 'transparent' }));
            group.append(svg('text', { x: 8, y: y + 4, fill: '#55606b' }, clock(pdu.ts)));
            const [x1, x2] = esmeSends ? [left, right] : [right, left];
            group.append(svg('line', { x1, y1: y + 6, x2, y2: y + 6, stroke: color, 'stroke-width': 1.6, 'marker-end': 'url(#arrow-' + kind + ')' }));
            let label = pdu.command + ' #' + pdu.sequence_number;
            if (pdu.command_status !== 0 || pdu.command_id >= 0x80000000) label += ' ' + pdu.command_status_name;
            if (pdu.receipt) label += ' ' + (pdu.receipt.stat || '');
            group.append(svg('text', { x: (left + right) / 2, y: y, 'text-anchor': 'middle', fill: color }, label));
            if (pdu.latency_ms !== undefined) group.append(svg('text', { x: right + 12, y: y + 4, fill: '#55606b', class: 'latency' }, pdu.latency_ms.toFixed(1) + ' ms'));
            group.addEventListener('click', () => select(pdu.ref));
            groups.set(pdu.ref, group);
            root.append(group);
          });
          if (selectRef && groups.has(selectRef)) setTimeout(() => { select(selectRef); groups.get(selectRef).scrollIntoView({ block: 'center' }); }, 0);
          return root;
        }

        function showFields(box, pdu, byRef) {
          const table = el('table', { id: 'field-table' });
          const row = (key, value) => table.append(el('tr', {}, el('th', {}, key), el('td', { class: 'mono' }, typeof value === 'object' ? JSON.stringify(value) : String(value))));
          for (const [key, value] of Object.entries(pdu)) {
            if (key === 'ref' || key === 'request' || key === 'receipt_for') continue;
            row(key, value);
          }
          const heading = el('h3', {}, pdu.command + ' #' + pdu.sequence_number);
          const links = el('p', {});
          const jump = (label, ref) => { const a = el('a', { href: '#' }, label); a.onclick = (e) => { e.preventDefault(); const g = document.querySelector('g.pdu[data-ref="' + CSS.escape(ref) + '"]'); if (g) g.dispatchEvent(new MouseEvent('click')); }; return a; };
          if (pdu.request && byRef.has(pdu.request)) links.append(jump('← its request', pdu.request), ' ');
          for (const other of byRef.values()) if (other.request === pdu.ref) links.append(jump('→ its response', other.ref), ' ');
          if (pdu.receipt_for && byRef.has(pdu.receipt_for)) links.append(jump('← the submit it reports on', pdu.receipt_for), ' ');
          const id = messageIdOf(pdu);
          if (id) links.append(el('a', { href: '#/message/' + encodeURIComponent(id) }, 'Follow message ' + id));
          box.replaceChildren(heading, links, table);
        }

        async function messageView(id) {
          const message = await api('/api/messages/' + encodeURIComponent(id));
          main.append(el('h2', {}, 'Message ' + message.message_id));
          const parts = el('table', { id: 'message-parts' }, el('tr', {}, ...['Part', 'Submitted', 'Status', 'Message id', 'Receipts'].map(h => el('th', {}, h))));
          const byRef = new Map(message.pdus.map(p => [p.ref, p]));
          for (const part of message.parts) {
            const submit = byRef.get(part.submit);
            const receipts = part.receipts.map(r => byRef.get(r)).filter(Boolean).map(r => (r.receipt && r.receipt.stat || '?') + ' at ' + clock(r.ts) + ' (session ' + r.session + ')');
            parts.append(el('tr', {}, el('td', {}, part.seq ? part.seq + '/' + part.total : '1/1'), el('td', { class: 'mono' }, submit ? when(submit.ts) + ' session ' + submit.session : ''),
              el('td', { class: part.status && part.status !== 'ESME_ROK' ? 'status-error' : '' }, part.status || 'no response'), el('td', { class: 'mono' }, part.message_id || ''),
              el('td', { class: 'wrap' }, receipts.length ? receipts.join('; ') : 'none')));
          }
          main.append(parts);
          if (message.journey) {
            const journey = el('table', { id: 'message-journey' }, el('tr', {}, ...['Hop', 'Where', 'Login', 'Session', 'Status', 'Message id', 'Receipt', 'To the next hop'].map(h => el('th', {}, h))));
            message.journey.forEach((hop, index) => {
              const receipt = hop.parts.map(p => p.receipt).find(Boolean);
              journey.append(el('tr', { class: 'hop-row' }, el('td', {}, index + 1), el('td', { class: 'mono' }, hop.esme + ' → ' + hop.smsc + ' (' + hop.input + ')'),
                el('td', {}, hop.system_id || ''), el('td', {}, hop.session), el('td', { class: hop.accepted ? '' : 'status-error' }, hop.parts.map(p => p.status || 'no response').join(', ')),
                el('td', { class: 'mono' }, hop.parts.map(p => p.message_id || '').join(', ')),
                el('td', {}, receipt ? (receipt.state || '?') + ' after ' + receipt.after_ms.toFixed(1) + ' ms' : 'none'),
                el('td', {}, hop.forward_ms === null ? '' : hop.forward_ms.toFixed(1) + ' ms')));
            });
            main.append(el('h2', {}, 'Across hops'), journey);
          }
          const sessions = new Map(message.sessions.map(s => [s.id, s]));
          const fields = el('div', { id: 'fields' }, el('p', { class: 'muted' }, 'Click a PDU to see its fields.'));
          const fromEsme = (pdu) => { if (pdu.from_esme !== null) return pdu.from_esme; const s = sessions.get(pdu.session); return s ? pdu.src === s.esme : true; };
          main.append(el('h2', {}, 'Its PDUs'), el('div', { class: 'split' }, el('div', { class: 'ladder-box' }, ladder(message.pdus, fromEsme, 'ESME', 'SMSC', fields)), fields));
          main.append(el('h2', {}, 'Sessions'), sessionTable(message.sessions));
        }

        function analyzeView(values) {
          main.append(el('h2', {}, 'Analyze a selection'), queryForm('analyze-form', [['source', 'Source', 'id'], ['session', 'Session', 'id'], ['system_id', 'System id', 'login'],
            ['message_id', 'Message id', ''], ['address', 'Address', ''], ['status', 'Status', ''], ['state', 'Receipt state', ''], ['from', 'From', 'time'], ['to', 'To', 'time']], values, '#/analyze'));
          const search = query(values);
          main.append(el('p', {}, el('a', { href: '/api/analyze?' + search, id: 'analyze-json' }, 'As JSON'), ' · ', el('a', { href: '/analyze?' + search, target: '_blank' }, 'Open the report alone')));
          main.append(el('iframe', { class: 'report', id: 'report', src: '/analyze?' + search, title: 'Analysis' }));
        }

        function liveView() {
          main.append(el('h2', {}, 'Live'));
          const counters = el('div', { class: 'counters', id: 'live-counters' });
          const chart = el('div', { class: 'chart', id: 'live-chart' });
          const list = el('div', { id: 'live-sessions' });
          main.append(counters, chart, el('h2', {}, 'Newest sessions'), list);
          const samples = [];
          let previous = null;
          const draw = () => {
            const width = 900, height = 160, pad = 30;
            const box = svg('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height });
            const max = Math.max(1, ...samples.map(s => s.rate));
            box.append(svg('text', { x: 8, y: 16, fill: '#55606b' }, 'PDUs per second (max ' + max.toFixed(0) + ')'));
            box.append(svg('line', { x1: pad, y1: height - pad, x2: width - 10, y2: height - pad, stroke: '#c4ccd5' }));
            if (samples.length > 1) {
              const points = samples.map((s, i) => (pad + i * (width - pad - 10) / 119).toFixed(1) + ',' + (height - pad - s.rate / max * (height - 2 * pad)).toFixed(1)).join(' ');
              box.append(svg('polyline', { points, fill: 'none', stroke: '#2f7fd8', 'stroke-width': 2 }));
            }
            chart.replaceChildren(box);
          };
          const refreshSessions = async () => {
            try { list.replaceChildren(sessionTable((await api('/api/sessions?order=desc&limit=15')).sessions)); } catch (error) { showError(error); }
          };
          let latest = null;
          const showCounters = () => {
            if (!latest) return;
            const item = (label, value, id) => el('div', {}, el('span', { class: 'muted' }, label), el('b', { id }, value));
            counters.replaceChildren(item('PDUs stored', latest.pdus, 'live-pdus'), item('Sources', latest.sources.length, 'live-sources'),
              item('Recording', latest.recording ? 'yes' : 'no', 'live-recording'), item('PDUs/s', samples.length ? samples[samples.length - 1].rate.toFixed(0) : '—', 'live-rate'));
          };
          // A sample a second: what the store gained since the last one.
          const timer = setInterval(() => {
            if (!latest) return;
            const now = Date.now() / 1000;
            if (previous) {
              samples.push({ rate: Math.max(0, (latest.pdus - previous.pdus) / Math.max(0.001, now - previous.at)) });
              if (samples.length > 120) samples.shift();
            }
            previous = { pdus: latest.pdus, at: now };
            showCounters();
            draw();
          }, 1000);
          const source = new EventSource('/api/live');
          source.addEventListener('store', (event) => {
            latest = JSON.parse(event.data);
            showCounters();
            refreshSessions();
          });
          draw();
          cleanup = () => { source.close(); clearInterval(timer); };
        }

        async function start() {
          try {
            const store = await api('/api/sources');
            document.getElementById('store-name').textContent = store.store + ' · ' + store.sources.length + ' sources';
          } catch (error) { showError(error); }
          window.addEventListener('hashchange', route);
          route();
        }
        start();
        """#
}
