<?php
// A template engine that compiles its own templates, and a database layer: no request input reaches a sink.
$compiled = file_get_contents(__DIR__ . '/cache/page.php');
eval('?>' . $compiled);
$pdo = new PDO('sqlite::memory:');
$pdo->exec('CREATE TABLE t (id INTEGER)');
$stmt = $pdo->prepare('SELECT * FROM t WHERE id = ?');
$stmt->execute([$_GET['id']]);
$name = htmlspecialchars($_POST['name'] ?? '');
echo exec('uptime');
$rows = $db->query("SELECT `id`, `name` FROM `users` WHERE `id` = " . intval($_GET['id']));
function system_status($x) { return $x; }
echo system_status($_GET['s']);
preg_replace('/\s+/', ' ', $_POST['text']);
