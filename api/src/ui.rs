//! The front ends the gateway serves (docs/frontend.md): the programme dashboard at
//! `/dashboard` and the volunteers' field app at `/lapangan/` (a PWA: its service worker and
//! manifest under `/lapangan/`, so that the worker's scope is the app). `npm run build` in `web/` writes them to `api/assets/ui`, which is committed
//! and built into the binary, so they load with no network beyond the gateway. They use only
//! the public GraphQL API, with the token a user pastes in.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use include_dir::{Dir, include_dir};

static UI: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/ui");

/// The pages, by path: each is `<name>/index.html` of the build.
pub const PAGES: [&str; 2] = ["dashboard", "lapangan"];

/// What a page may load: its own scripts and styles and this gateway's API; nothing inline,
/// nothing from elsewhere, no framing.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// What the field app's service worker may fetch: the app's own files, from this gateway.
const WORKER_POLICY: &str = "default-src 'none'; connect-src 'self'";

/// `GET /<page>`: the page's HTML, never cached (it names the assets of this build).
pub fn page(name: &str) -> Response {
    match UI.get_file(format!("{name}/index.html")) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            ],
            file.contents(),
        )
            .into_response(),
        None => not_found(),
    }
}

/// `GET /ui/assets/<file>`: a script, style or image of the build, cached for good (its name
/// carries its content hash).
pub fn asset(file: &str) -> Response {
    let media = match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("webmanifest") => "application/manifest+json",
        _ => return not_found(),
    };
    if file.contains('/') || file.starts_with('.') {
        return not_found();
    }
    match UI.get_file(format!("assets/{file}")) {
        Some(found) => (
            [(header::CONTENT_TYPE, media), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")],
            found.contents(),
        )
            .into_response(),
        None => not_found(),
    }
}

/// `GET /lapangan/<file>`: the field app's service worker, web-app manifest and icons. The
/// worker and manifest are checked for updates on every visit; the icons are kept a day.
pub fn field_file(file: &str) -> Response {
    let (media, cache) = match file {
        "sw.js" => ("text/javascript", "no-cache"),
        "manifest.webmanifest" => ("application/manifest+json", "no-cache"),
        "icon-192.png" | "icon-512.png" => ("image/png", "public, max-age=86400"),
        _ => return not_found(),
    };
    // A worker's own policy governs what it fetches: this one keeps the app's files, from here.
    let policy = if file == "sw.js" { WORKER_POLICY } else { "default-src 'none'; frame-ancestors 'none'" };
    match UI.get_file(format!("lapangan/{file}")) {
        Some(found) => (
            [
                (header::CONTENT_TYPE, media),
                (header::CACHE_CONTROL, cache),
                (header::CONTENT_SECURITY_POLICY, policy),
            ],
            found.contents(),
        )
            .into_response(),
        None => not_found(),
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "no such file")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_and_the_assets_it_names_are_built_in() {
        for name in PAGES {
            let html = UI.get_file(format!("{name}/index.html")).expect("the page is built in");
            let html = html.contents_utf8().expect("UTF-8");
            let named: Vec<&str> =
                html.split("/ui/assets/").skip(1).filter_map(|rest| rest.split('"').next()).collect();
            assert!(!named.is_empty(), "{name} loads its script");
            for file in named {
                assert_eq!(asset(file).status(), StatusCode::OK, "{file}");
            }
        }
        assert_eq!(asset("../dashboard/index.html").status(), StatusCode::NOT_FOUND);
    }
}
