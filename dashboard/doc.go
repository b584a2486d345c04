// Package dashboard serves the lead office's web pages: the city overview
// (城市总览), a page per county, site and household, the warnings queue
// (预警督办), the publishing units and the event catalog (数据目录).
//
// The pages are server-rendered with html/template from the shared view's
// read types, so every table reads without JavaScript, prints, and is what
// a screen reader reads; a little JavaScript (static/app.js, charts.js and
// the vendored Apache ECharts) sorts tables, draws charts from those same
// tables and swaps in fresh regions when the view changes (Server-Sent
// Events from /live). Everything is embedded: the running hub needs no
// network and no build step. Every label comes from one message catalog
// (messages.json) in Chinese and English.
//
// The hub mounts Pages in its mux behind the same access rules as the API.
package dashboard
