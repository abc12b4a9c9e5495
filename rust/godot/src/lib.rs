//! Socket.IO v5 client for Godot 4, as a GDExtension.
//!
//! GDScript sees five classes: [`client::SocketIOClient`] (the shared client of `get_singleton()`, and clients of their
//! own made with `SocketIOClient.new()`), [`namespace::SocketIONamespace`] handles, [`request::SocketIORequest`],
//! the [`connection::SocketIOConnection`] node and [`multiplayer_peer::SocketIOMultiplayerPeer`]. The protocol work is done by
//! `socketio-core`; this crate converts Variants, turns the core's events into signals and Callable calls without
//! holding a borrow of any object while GDScript runs, and words the core's refusals for GDScript. Every check, limit and default is the core's (`socketio_core::check`,
//! `ClientConfig::default()`): the properties read and write the core's settings in place.
//!
//! # Layout
//!
//! - [`client`]: the `SocketIOClient` class. `mod.rs` declares it (fields, signals, properties), `properties.rs`
//!   maps each property onto the core's `ClientConfig`, `api.rs` holds the GDScript methods and `commands.rs` what
//!   they do, `namespace_api.rs` the methods of `SocketIONamespace` (each forwards to a command for its path), and
//!   `hooks.rs` the end-of-frame flush, the list of live clients and their shutdown at exit.
//! - [`namespace`]: the `SocketIONamespace` handle (its path, its client, why it was let go of) and its signals.
//! - [`request`]: `SocketIONamespace.request()`'s `SocketIORequest`, an ack callback whose answer is awaited (a third
//!   class GDScript sees, only as the object of the Signal `request()` returns).
//! - [`dispatch`]: the dispatch of the core's events as [`signals`] and Callable calls, one at a time with no borrow
//!   held (`mod.rs` runs it, `plan.rs` turns one event into actions, `action.rs` names them); `registry.rs` is what
//!   the client holds besides its settings (the core `Client`, the handles with their handlers, the ack callbacks),
//!   and `release.rs` drops what it lets go of once no borrow is held.
//! - [`build`]: received payloads → Godot values, in chunks over several polls ([`build::Godot`] is the engine's
//!   side). [`convert`]: Variants → values to send, with [`marshal`] (Godot's binary serialization) as the fast
//!   path both ways.
//! - [`connection`]: the `SocketIOConnection` node, which owns a client of its own and polls it every frame.
//! - [`multiplayer_peer`]: `SocketIOMultiplayerPeer`, Godot's `MultiplayerPeer` over a namespace and the relay
//!   protocol of the core (`socketio_core::multiplayer`); it uses namespaces only through their GDScript API.
//! - [`tls`] (`TLSOptions` → the core's TLS settings), [`enums`] (the enums registered by hand, and their editor
//!   help), [`defaults`]
//!   (parameter types for default arguments), [`guard`] (panics and other threads kept away from the client).
//!
//! Dependencies point one way, from the classes down: `client` uses `dispatch`, `namespace` and the rest;
//! `dispatch` uses `namespace`, `build`, `convert`, `marshal`, `guard` and `signals`; `namespace` uses `signals`; `build` and `convert`
//! use `marshal`; `guard`, `signals`, `marshal` and `tls` use nothing of the crate; `enums` names the classes whose
//! enums it registers. The dispatcher reaches
//! the client only through its [`dispatch::Owner`] trait, and the panic guard through [`guard::Recover`].

mod build;
mod client;
mod connection;
mod convert;
mod defaults;
mod dispatch;
mod enums;
mod guard;
mod marshal;
mod multiplayer_peer;
mod namespace;
mod request;
mod signals;
mod tls;

#[allow(unsafe_code)] // `ExtensionLibrary` is an unsafe trait; nothing else in the crate is unsafe.
mod entry {
    use godot::builtin::{Callable, Variant};
    use godot::init::{gdextension, ExtensionLibrary, InitStage};

    use crate::enums;

    /// The extension's entry point (`gdext_rust_init`).
    struct SocketIOExtension;

    // SAFETY: the only requirement is that this is the one `ExtensionLibrary` of the crate.
    #[gdextension]
    unsafe impl ExtensionLibrary for SocketIOExtension {
        fn on_stage_init(stage: InitStage) {
            // Godot loads extensions on its main thread.
            crate::guard::mark_main_thread();
            if stage == InitStage::Scene {
                // The classes are registered by now; their `ConnectionState` enums are added by
                // hand, gdext having no macro for class-level enums.
                enums::register_all();
                // There is no scene tree yet: hook the shutdown of every client to its exit during the first frame, so
                // that whatever scripts connect to the clients' signals is released before GDScript shuts down, even
                // when no method of a client is ever called.
                let install = Callable::from_fn("socketio_install_exit_hook", |_args: &[&Variant]| {
                    crate::client::install_exit_hook();
                    Variant::nil()
                });
                install.call_deferred(&[]);
                // The `socketio/*` Performance monitors (client/stats.rs).
                crate::client::register_monitors();
            }
            if stage == InitStage::Editor {
                // gdext has loaded the editor help of every class by now (`register-docs`); load again, with
                // their enumerators described, the classes whose enums are registered by hand.
                for xml in godot::docs::__gather_xml_docs() {
                    if let Some(xml) = enums::with_enum_docs(&xml) {
                        // SAFETY: called on the main thread during the Editor init stage, when the binding and
                        // the editor help exist; `xml` is valid UTF-8 of the length given (no terminator needed).
                        unsafe {
                            godot::sys::interface_fn!(editor_help_load_xml_from_utf8_chars_and_len)(
                                xml.as_ptr() as *const std::ffi::c_char,
                                xml.len() as i64,
                            );
                        }
                    }
                }
            }
        }

        fn on_stage_deinit(stage: InitStage) {
            if stage == InitStage::Scene {
                crate::client::unregister_monitors();
                // Runs before gdext unregisters the classes: release the handlers, callbacks and namespace handles
                // of every client while everything they refer to still exists (should the exit hook not have run),
                // then free the clients: the shared one, and those made with SocketIOClient.new() that no script
                // freed.
                crate::client::shutdown_all();
                crate::client::free_all();
            }
        }
    }
}

#[cfg(test)]
mod doc_tests {
    /// The text between `open` and `close` for each occurrence, with the text of the opening tag.
    fn blocks<'a>(xml: &'a str, open: &str, close: &str) -> Vec<&'a str> {
        xml.split(open)
            .skip(1)
            .filter_map(|rest| rest.split(close).next())
            .collect()
    }

    fn has_text(block: &str, tag: &str) -> bool {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        block
            .split(&open)
            .nth(1)
            .and_then(|rest| rest.split(&close).next())
            .is_some_and(|text| !text.trim().is_empty())
    }

    /// Every class, method, signal and property GDScript sees has a description in the editor's class reference
    /// (`register-docs`).
    #[test]
    fn every_registered_item_is_documented() {
        let xmls: Vec<String> = godot::docs::__gather_xml_docs().collect();
        assert_eq!(xmls.len(), 5, "five classes");
        let mut undocumented = Vec::new();
        for xml in &xmls {
            let class = xml
                .split("<class name=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("?");
            if !has_text(xml, "brief_description") {
                undocumented.push(format!("{class} (class)"));
            }
            for (open, close) in [("<method ", "</method>"), ("<signal ", "</signal>")] {
                for block in blocks(xml, open, close) {
                    if !has_text(block, "description") {
                        undocumented.push(format!("{class}.{}", block.split('"').nth(1).unwrap_or("?")));
                    }
                }
            }
            for member in blocks(xml, "<member ", "</member>") {
                if member.split_once('>').is_none_or(|(_, text)| text.trim().is_empty()) {
                    undocumented.push(format!(
                        "{class}.{} (property)",
                        member.split('"').nth(1).unwrap_or("?")
                    ));
                }
            }
        }
        // The enums registered by hand: their enumerators are described in the XML loaded after gdext's.
        let mut with_enums = 0;
        for xml in &xmls {
            let Some(full) = crate::enums::with_enum_docs(xml) else {
                continue;
            };
            with_enums += 1;
            for constant in blocks(&full, "<constant ", "</constant>") {
                if constant.split_once('>').is_none_or(|(_, text)| text.trim().is_empty()) {
                    undocumented.push(format!("{} (constant)", constant.split('"').nth(1).unwrap_or("?")));
                }
            }
            assert_eq!(
                blocks(&full, "<constant ", "</constant>").len(),
                3,
                "three enumerators in {}",
                &full[..80.min(full.len())]
            );
        }
        assert_eq!(
            with_enums, 3,
            "SocketIOClient, SocketIONamespace, SocketIOConnection have an enum"
        );
        assert!(undocumented.is_empty(), "undocumented: {undocumented:?}");
        let client = xmls
            .iter()
            .find(|x| x.contains("<class name=\"SocketIOClient\""))
            .unwrap();
        for name in [
            "connect_to_url",
            "poll",
            "close",
            "get_singleton",
            "reconnect_attempt",
            "reconnection_delay",
            "get_stats",
        ] {
            assert!(
                client.contains(&format!("name=\"{name}\"")),
                "{name} is in the class reference"
            );
        }
    }
}
