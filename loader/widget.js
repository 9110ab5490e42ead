// Palaver's embed script, the one tag a site owner adds to a page:
//
//   <script src="https://HOST/widget.js" data-channel="demo" async></script>
//
// A persistent channel's page also says who the visitor is, with a short-lived token that
// the site signs with the channel's key (a JWT): in the tag (data-identity-token="…"), with
// Palaver.identify(token), or best with Palaver.setIdentityProvider(async () => token), which
// the widget then calls again whenever the token is about to run out.
//
// In order, it:
// 1. reads the options from the tag's data-* attributes and copies them, checked, onto the
//    host element #palaver-widget under the same names, where the widget reads them
//    (src/config.rs): data-channel (required), data-server (by default the origin this script
//    came from), data-color (a CSS colour), data-position (right or left), data-language
//    (en or fr; by default French when the page's <html lang> is French, else English) and
//    data-identity-token (a persistent channel's visitor);
// 2. gives the host an open shadow root, so that the page's CSS and the widget's never meet,
//    holding the widget's stylesheet and its mount container #palaver-root, and draws in the
//    container a placeholder launcher with the widget's own markup, so the button shows at
//    once, before any WebAssembly;
// 3. installs window.Palaver, the page's API, and replays the calls that the page queued in
//    the stub before this script ran (Palaver.q): open(), close(), toggle(),
//    setRegarding(text), reset() (forgets the visitor in this browser, and the identity
//    provider: a site calls it when its user signs out), identify(token),
//    setIdentityProvider(fn), on(event, fn) and off(event, fn);
// 4. loads the WebAssembly widget from https://HOST/widget/, once, at the first of: a click on
//    the placeholder, a command that shows the panel, a signed-in visitor (an identity token
//    or provider, so their conversation is ready to show), or the browser's first idle moment
//    after the page has loaded. The widget then replaces the placeholder with its own
//    launcher.
//
// The loader and the widget talk through DOM events dispatched on the host element:
// - "palaver:event", widget to loader, detail {name, data}: "ready" once the widget listens
//   for commands, then "message", "unread", "sessionEnded", "open", "close" and
//   "identityNeeded" ({reason: "missing" | "refresh" | "expired"}: a persistent channel needs
//   a fresh identity token). The loader hands each to the handlers registered with
//   Palaver.on(name, fn), and answers "identityNeeded" itself when the page has set an
//   identity provider.
// - "palaver:command", loader to widget, detail {name, args}: "open", "close", "toggle",
//   "setRegarding", "reset", "identify" [token] and "identifyFailed" [why the provider gave
//   no token]. They are sent only after "ready"; until then they wait, in the order they were
//   given.
(function () {
  "use strict";

  // Only valid while this script first runs; async classic scripts have it too.
  var script = document.currentScript;
  if (!script || document.getElementById("palaver-widget")) {
    return; // not started from a <script> tag, or the widget is already on the page
  }

  var METHODS = ["open", "close", "toggle", "setRegarding", "reset", "identify",
    "setIdentityProvider", "on", "off"];
  // Commands that show the panel or sign a visitor in: the widget loads at once for them,
  // while the others wait in the buffer for the idle-time load.
  var LOAD_NOW = ["open", "toggle", "identify"];
  var EVENTS = ["ready", "message", "unread", "sessionEnded", "open", "close",
    "identityNeeded"];
  // The launcher's accessible name, as the widget itself words it in each language.
  var LABELS = { en: "Chat with us", fr: "Discuter avec nous" };
  var SVG = "http://www.w3.org/2000/svg";

  function warn(message) {
    console.warn("palaver: " + message);
  }

  function option(name) {
    return (script.getAttribute("data-" + name) || "").trim();
  }

  // The value when it is one of `allowed`, else (with a warning for a wrong one) the fallback.
  function oneOf(name, value, allowed, fallback) {
    if (value && allowed.indexOf(value) < 0) {
      warn("data-" + name + '="' + value + '" is not one of ' + allowed.join(", ") +
        "; using " + fallback);
    }
    return allowed.indexOf(value) < 0 ? fallback : value;
  }

  // 1. Options.
  var channel = option("channel");
  if (!channel) {
    console.error("palaver: add data-channel=\"...\" to the widget's <script> tag");
    return;
  }
  var origin = new URL(script.src, document.baseURI).origin;
  var server = (option("server") || origin).replace(/\/+$/, "");
  var assets = origin + "/widget/";
  var color = option("color");
  if (color && !CSS.supports("color", color)) {
    warn('data-color="' + color + '" is not a CSS colour; using the default');
    color = "";
  }
  var position = oneOf("position", option("position").toLowerCase(), ["right", "left"], "right");
  var pageLanguage = /^fr([-_]|$)/i.test(document.documentElement.lang) ? "fr" : "en";
  // "fr-CA" counts as "fr": the widget speaks one French.
  var language = oneOf("language", option("language").toLowerCase().split(/[-_]/)[0],
    ["en", "fr"], pageLanguage);
  var identityToken = option("identity-token");

  var host = document.createElement("div");
  host.id = "palaver-widget";
  host.setAttribute("data-channel", channel);
  host.setAttribute("data-server", server);
  host.setAttribute("data-position", position);
  host.setAttribute("data-language", language);
  if (identityToken) {
    host.setAttribute("data-identity-token", identityToken);
  }
  if (color) {
    host.setAttribute("data-color", color);
    // Declarations on the host element itself win over the stylesheet's `:host` defaults, so
    // the placeholder wears the brand colour at once, and so does the widget after it.
    host.style.setProperty("--palaver-accent", color);
    host.style.setProperty("--palaver-accent-dark",
      CSS.supports("color", "color-mix(in srgb, red 85%, black)")
        ? "color-mix(in srgb, " + color + " 85%, black)"
        : color);
  }

  // 2. The shadow root and the placeholder launcher. Its markup is the widget's launcher
  // (src/components/launcher.rs) closed, inside the app's `.palaver` wrapper, so that
  // style/widget.css draws both alike and nothing moves when the widget takes over.
  var shadow = host.attachShadow({ mode: "open" });
  var stylesheet = document.createElement("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = assets + "widget.css";
  var container = document.createElement("div");
  container.id = "palaver-root";
  // Unstyled, the button would flash as a grey box with a large black icon: it stays hidden
  // until the stylesheet has loaded (or failed to).
  container.style.visibility = "hidden";
  function reveal() {
    container.style.removeProperty("visibility");
  }
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);
  var wrapper = document.createElement("div");
  wrapper.className = "palaver";
  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher palaver-launcher";
  launcher.setAttribute("data-testid", "launcher");
  launcher.setAttribute("aria-label", LABELS[language]);
  launcher.setAttribute("aria-expanded", "false");
  var icon = document.createElementNS(SVG, "svg");
  icon.setAttribute("class", "icon");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  var path = document.createElementNS(SVG, "path");
  path.setAttribute("d",
    "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  icon.appendChild(path);
  launcher.appendChild(icon);
  wrapper.appendChild(launcher);
  container.appendChild(wrapper);
  shadow.append(stylesheet, container);
  // A click loads the widget and asks it to open the panel as soon as it is ready.
  launcher.addEventListener("click", function () {
    send("open", []);
  });

  // The widget's start function looks the host up in the document, so it may run only once
  // the host is on the page: an async script can run before <body> exists.
  var attached = new Promise(function (resolve) {
    function attach() {
      document.body.appendChild(host);
      resolve();
    }
    if (document.body) {
      attach();
    } else {
      document.addEventListener("DOMContentLoaded", attach, { once: true });
    }
  });

  // 3. Commands, events and window.Palaver.
  var ready = false; // the widget has announced that it listens for commands
  var pending = []; // commands given before that, in order
  var handlers = Object.create(null); // event name -> functions registered with Palaver.on

  function send(name, args) {
    if (ready) {
      host.dispatchEvent(new CustomEvent("palaver:command", {
        detail: { name: name, args: args }
      }));
      return;
    }
    pending.push({ name: name, args: args });
    if (LOAD_NOW.indexOf(name) >= 0) {
      load();
    }
  }

  // Calls a page's handler; one that throws is reported and breaks nothing else.
  function call(handler, name, data) {
    try {
      handler(data);
    } catch (error) {
      console.error("palaver: a Palaver.on(\"" + name + "\") handler threw", error);
    }
  }

  // The page's identity provider: a function that returns the visitor's identity token, or
  // a promise of it.
  var provider = null;
  var asking = null; // the provider being called, until it answers
  var wanted = false; // the widget asked for an identity that no provider has given yet
  // The tag's token is in use until the widget asks for another one, so a provider set
  // beside it is first called then, not at once.
  var tagToken = !!identityToken;

  function askProvider() {
    if (!provider) {
      wanted = true;
      return;
    }
    if (asking === provider) {
      return; // its answer is on the way
    }
    var from = asking = provider;
    wanted = false;
    // Only the latest provider's answers count: a reset or a new provider drops older ones.
    function done() {
      if (asking === from) {
        asking = null;
      }
      return from === provider;
    }
    Promise.resolve().then(function () {
      return from();
    }).then(function (token) {
      if (!done()) {
        return;
      }
      token = typeof token === "string" ? token.trim() : "";
      if (token) {
        send("identify", [token]);
      } else {
        warn("the identity provider gave no token");
        send("identifyFailed", [""]);
      }
    }, function (error) {
      if (!done()) {
        return;
      }
      console.error("palaver: the identity provider failed", error);
      send("identifyFailed", [String((error && error.message) || error || "")]);
    });
  }

  host.addEventListener("palaver:event", function (event) {
    var detail = event.detail || {};
    if (detail.name === "identityNeeded") {
      askProvider();
    }
    if (detail.name === "ready") {
      ready = true;
      var buffered = pending;
      pending = [];
      buffered.forEach(function (command) {
        send(command.name, command.args);
      });
    }
    // A copy, so that a handler that calls Palaver.off does not skip its neighbour.
    var list = (handlers[detail.name] || []).slice();
    var data = detail.data === undefined ? null : detail.data;
    list.forEach(function (handler) {
      call(handler, detail.name, data);
    });
  });

  // Palaver("open"), Palaver("on", "message", fn), …: the form the stub queues.
  function Palaver(name) {
    if (METHODS.indexOf(name) < 0) {
      warn("unknown command " + JSON.stringify(name) + "; the commands are " +
        METHODS.join(", "));
      return;
    }
    Palaver[name].apply(null, Array.prototype.slice.call(arguments, 1));
  }
  Palaver.open = function () {
    send("open", []);
  };
  Palaver.close = function () {
    send("close", []);
  };
  Palaver.toggle = function () {
    send("toggle", []);
  };
  // The session's Regarding reference that agents see (an order, a ticket); "" clears it.
  Palaver.setRegarding = function (text) {
    send("setRegarding", [text == null ? "" : String(text)]);
  };
  // Forgets the visitor in this browser (stored session, messages, signed-in identity) and
  // the identity provider.
  Palaver.reset = function () {
    provider = null;
    wanted = false;
    tagToken = false;
    send("reset", []);
  };
  // Signs the visitor in to a persistent channel with a token the site signed (a JWT).
  Palaver.identify = function (token) {
    token = token == null ? "" : String(token).trim();
    if (!token) {
      warn("Palaver.identify(token) needs the visitor's identity token");
      return;
    }
    tagToken = false;
    send("identify", [token]);
  };
  // fn() returns the visitor's identity token, or a promise of it; the widget calls it for
  // the first token and again before each one runs out.
  Palaver.setIdentityProvider = function (fn) {
    if (typeof fn !== "function") {
      warn("Palaver.setIdentityProvider(fn) needs a function that returns the token");
      return;
    }
    provider = fn;
    if (wanted || !tagToken) {
      askProvider();
    }
    tagToken = false;
    load();
  };
  Palaver.on = function (name, handler) {
    if (typeof handler !== "function") {
      warn("Palaver.on(" + JSON.stringify(name) + ", handler) needs a function");
      return;
    }
    if (EVENTS.indexOf(name) < 0) {
      warn(JSON.stringify(name) + " is not an event the widget reports; they are " +
        EVENTS.join(", "));
    }
    (handlers[name] = handlers[name] || []).push(handler);
    if (name === "ready" && ready) {
      call(handler, name, null); // too late to hear it: the widget is ready already
    }
  };
  Palaver.off = function (name, handler) {
    handlers[name] = (handlers[name] || []).filter(function (registered) {
      return registered !== handler;
    });
  };

  // 4. Loading the widget.
  var loading = false; // an import is under way, or has succeeded
  var attempts = 0;

  function load() {
    if (loading) {
      return;
    }
    loading = true;
    attempts += 1;
    launcher.setAttribute("aria-busy", "true");
    // A browser may remember a failed module fetch for its URL, so a retry asks for a new one.
    var glueUrl = assets + "palaver-widget.js" + (attempts > 1 ? "?attempt=" + attempts : "");
    // The glue's default export fetches palaver-widget_bg.wasm next to itself, instantiates
    // it and runs the widget's main, which mounts the app in place of the placeholder.
    Promise.all([import(glueUrl), attached])
      .then(function (loaded) {
        return loaded[0].default();
      })
      .catch(function (error) {
        loading = false;
        launcher.removeAttribute("aria-busy");
        console.error("palaver: the chat widget failed to load from " + glueUrl +
          "; clicking the chat button tries again.", error);
      });
  }

  function loadWhenIdle() {
    if (window.requestIdleCallback) {
      window.requestIdleCallback(load, { timeout: 3000 });
    } else {
      setTimeout(load, 2000);
    }
  }
  if (identityToken) {
    load(); // a signed-in visitor: their conversation should be ready when they open it
  } else if (document.readyState === "complete") {
    loadWhenIdle();
  } else {
    window.addEventListener("load", loadWhenIdle, { once: true });
  }

  // Installed last, so that replayed calls find everything above in place.
  var queued = window.Palaver && window.Palaver.q;
  window.Palaver = Palaver;
  (queued || []).forEach(function (args) {
    Palaver.apply(null, args);
  });
})();
