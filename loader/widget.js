// Palaver's embed script, the one tag a site owner adds to a page:
//
//   <script src="https://HOST/widget.js" data-channel="demo" async></script>
//
// `data-channel` names the channel (the widget configuration on the server); the optional
// `data-server` is the server's base URL and defaults to the origin this script came from.
// The script creates the host element #palaver-widget with an open shadow root, so that the
// page's CSS and the widget's never meet, puts the widget's stylesheet and its mount
// container (#palaver-root) inside it, copies the settings onto the host as data-*
// attributes (read by src/config.rs), then imports the WebAssembly widget from
// https://HOST/widget/, whose start function mounts the app into the container.
(function () {
  "use strict";

  // Only valid while this script first runs; async classic scripts have it too.
  var script = document.currentScript;
  if (!script || document.getElementById("palaver-widget")) {
    return; // not started from a <script> tag, or the widget is already on the page
  }
  var channel = (script.getAttribute("data-channel") || "").trim();
  if (!channel) {
    console.error("palaver: add data-channel=\"...\" to the widget's <script> tag");
    return;
  }
  var origin = new URL(script.src, document.baseURI).origin;
  var server = (script.getAttribute("data-server") || origin).replace(/\/+$/, "");
  var assets = origin + "/widget/";

  var host = document.createElement("div");
  host.id = "palaver-widget";
  host.setAttribute("data-channel", channel);
  host.setAttribute("data-server", server);
  var shadow = host.attachShadow({ mode: "open" });
  var stylesheet = document.createElement("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = assets + "widget.css";
  var container = document.createElement("div");
  container.id = "palaver-root";
  shadow.append(stylesheet, container);

  function start() {
    document.body.appendChild(host);
    // The glue's default export fetches palaver-widget_bg.wasm next to itself, instantiates
    // it and runs the widget's main, which mounts the app.
    import(assets + "palaver-widget.js")
      .then(function (glue) {
        return glue.default();
      })
      .catch(function (error) {
        console.error("palaver: the widget failed to load", error);
      });
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  }
})();
