@tool
extends EditorPlugin
## Editor entry of the Socket.IO addon.
##
## The classes (the SocketIOClient singleton and SocketIONamespace) come from the GDExtension in this folder and
## are available whether or not this plugin is enabled; the plugin only makes the addon a regular Asset Library
## addon that can be listed and toggled in Project Settings.
