<?php
// The php image variant's placeholder page: replace /app/public with your application.
header('Content-Type: text/plain; charset=utf-8');
echo 'Quicksilver + PHP ', PHP_VERSION, "\n";
