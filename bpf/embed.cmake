# cmake -DIN=obj -DOUT=file.inc -P embed.cmake: writes IN's bytes as a C
# initializer list ("0x7f,0x45,...") for #include inside an array.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" body "${body}")
file(WRITE ${OUT} "${body}\n")
